import Ajv from 'ajv';
import { HubError } from '../../platform/errors';
import { DEPARTMENTS, type Department } from '../../domain/departments';
import { BUILTIN_CODE_TABLES } from './code-tables';
import { DATE_FORMATS } from './dates';
import type { FieldMapping, Mapping } from './types';

/** JSON Schema of a connector's mapping (types.ts). Checked when a connector is created or updated. */
const codes = { oneOf: [{ type: 'string' }, { type: 'object', additionalProperties: { type: ['string', 'null'] } }] };
const format = { enum: DATE_FORMATS };
const fieldSpec = {
  type: 'object',
  additionalProperties: false,
  properties: {
    from: { oneOf: [{ type: 'string', minLength: 1 }, { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 }] },
    const: {},
    template: { type: 'string', minLength: 1 },
    default: {},
    trim: { type: 'boolean' },
    halfWidth: { type: 'boolean' },
    emptyAsNull: { type: 'boolean' },
    case: { enum: ['upper', 'lower'] },
    codes,
    unknownCode: { enum: ['error', 'null', 'keep'] },
    format: { oneOf: [format, { type: 'array', items: format, minItems: 1 }] },
    timezone: { type: 'string' },
    idNumber: { type: 'boolean' },
    rawField: { type: 'string' },
    invalidIdNumber: { enum: ['error', 'null'] },
    required: { type: 'boolean' },
    enum: { type: 'array', items: { type: 'string' } },
    pattern: { type: 'string' },
    maxLength: { type: 'integer', minimum: 1 },
    min: { type: 'number' },
    max: { type: 'number' },
    items: { type: 'object', additionalProperties: { $ref: '#/$defs/field' } },
    objects: { type: 'array', minItems: 1, items: { type: 'object', additionalProperties: { $ref: '#/$defs/field' } } },
  },
};
const mapped = { type: 'object', additionalProperties: false, properties: { field: { type: 'string' }, codes, default: { type: 'string' }, const: { type: 'string' } } };

export const MAPPING_SCHEMA = {
  $id: 'https://tonglan.local/schemas/mapping.json',
  type: 'object',
  additionalProperties: false,
  required: ['version', 'streams'],
  $defs: {
    field: { oneOf: [{ type: 'string', minLength: 1 }, fieldSpec] },
  },
  properties: {
    version: { const: 1 },
    timezone: { type: 'string' },
    codeTables: { type: 'object', additionalProperties: { type: 'object', additionalProperties: { type: ['string', 'null'] } } },
    streams: {
      type: 'object',
      minProperties: 1,
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['target', 'fields'],
        properties: {
          target: { type: 'string', pattern: '^[a-z_]+\\.[a-z_]+$' },
          key: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 },
          updatedAt: { $ref: '#/$defs/field' },
          fields: { type: 'object', minProperties: 1, additionalProperties: { $ref: '#/$defs/field' } },
          persons: {
            type: 'array',
            items: {
              type: 'object', additionalProperties: false,
              properties: Object.fromEntries(['idNumber', 'name', 'sex', 'birthDate', 'phone', 'address', 'target', 'role'].map((k) => [k, { type: 'string' }])),
            },
          },
          parties: { type: 'object', additionalProperties: false, required: ['field'], properties: { field: { type: 'string' }, defaultRole: { type: 'string' } } },
          place: { type: 'object', additionalProperties: false, required: ['address'], properties: { address: { type: 'string' } } },
          event: {
            type: 'object',
            additionalProperties: false,
            required: ['kind', 'title', 'occurredAt', 'status'],
            properties: {
              kind: { type: 'string', pattern: '^[a-z_]+$' },
              title: { type: 'string' },
              occurredAt: { type: 'string' },
              closedAt: { type: 'string' },
              category: { ...mapped, required: ['field'] },
              status: mapped,
              level: mapped,
              severity: mapped,
            },
          },
        },
      },
    },
  },
} as const;

const ajv = new Ajv({ allErrors: true, strict: false });
const validateSchema = ajv.compile(MAPPING_SCHEMA);

export const LOOP_STATUSES = ['reported', 'accepted', 'dispatched', 'handling', 'feedback', 'verified', 'closed', 'evaluated'] as const;
export const EVENT_LEVELS = ['grid', 'village', 'town', 'county', 'city'] as const;

function problemsOf(mapping: Mapping, department: Department | undefined): string[] {
  const problems: string[] = [];
  const tableNames = new Set([...Object.keys(BUILTIN_CODE_TABLES), ...Object.keys(mapping.codeTables ?? {})]);
  const checkCodes = (where: string, c: unknown) => {
    if (typeof c === 'string' && !tableNames.has(c)) problems.push(`${where}/codes: unknown code table "${c}"`);
  };
  const checkField = (where: string, fm: FieldMapping) => {
    if (typeof fm === 'string') return;
    const ways = ['from' in fm, 'const' in fm, 'template' in fm, 'objects' in fm].filter(Boolean).length;
    if (ways !== 1) problems.push(`${where}: give exactly one of "from", "const", "template", "objects"`);
    checkCodes(where, fm.codes);
    if (fm.pattern) { try { new RegExp(fm.pattern); } catch { problems.push(`${where}/pattern: not a regular expression`); } }
    for (const [k, item] of Object.entries(fm.items ?? {})) checkField(`${where}/items/${k}`, item);
    fm.objects?.forEach((o, i) => { for (const [k, item] of Object.entries(o)) checkField(`${where}/objects/${i}/${k}`, item); });
  };
  for (const [name, sm] of Object.entries(mapping.streams)) {
    const at = `/streams/${name}`;
    if (department) {
      const schema = DEPARTMENTS[department].schema;
      if (!sm.target.startsWith(`${schema}.`)) problems.push(`${at}/target: a ${department} connector writes only to the ${schema} schema, not ${sm.target}`);
    }
    for (const [f, fm] of Object.entries(sm.fields)) checkField(`${at}/fields/${f}`, fm);
    const fields = new Set(Object.keys(sm.fields));
    const needField = (where: string, f: string | undefined) => {
      if (f !== undefined && !fields.has(f)) problems.push(`${where}: "${f}" is not a mapped field`);
    };
    sm.persons?.forEach((p, i) => {
      for (const k of ['idNumber', 'name', 'sex', 'birthDate', 'phone', 'address'] as const) needField(`${at}/persons/${i}/${k}`, p[k]);
    });
    if (sm.parties) needField(`${at}/parties/field`, sm.parties.field);
    if (sm.place) needField(`${at}/place/address`, sm.place.address);
    if (sm.event) {
      const e = sm.event;
      if (!/\{/.test(e.title)) needField(`${at}/event/title`, e.title);
      needField(`${at}/event/occurredAt`, e.occurredAt);
      needField(`${at}/event/closedAt`, e.closedAt);
      for (const part of ['category', 'status', 'level', 'severity'] as const) {
        const m = e[part];
        if (!m) continue;
        needField(`${at}/event/${part}/field`, m.field);
        checkCodes(`${at}/event/${part}`, m.codes);
      }
      const statusTable = typeof e.status.codes === 'object' ? e.status.codes : e.status.codes ? mapping.codeTables?.[e.status.codes] : undefined;
      for (const v of [...Object.values(statusTable ?? {}), e.status.default]) {
        if (v !== undefined && v !== null && !(LOOP_STATUSES as readonly string[]).includes(v)) {
          problems.push(`${at}/event/status: "${v}" is not a closed-loop status (${LOOP_STATUSES.join(', ')})`);
        }
      }
      if (!e.status.field && !e.status.default) problems.push(`${at}/event/status: give a field or a default`);
    }
  }
  return problems;
}

/**
 * Validate a mapping (JSON Schema, then references between its parts). Throws TL_ERR_CONNECTOR_CONFIG whose
 * message and `details.problems` name the JSON path of every problem, e.g. `/streams/incidents/fields/sex/codes`.
 */
export function validateMapping(mapping: unknown, department?: Department): Mapping {
  if (!validateSchema(mapping)) {
    const problems = (validateSchema.errors ?? []).map((e) => {
      const extra = e.params && 'additionalProperty' in e.params ? ` "${(e.params as { additionalProperty: string }).additionalProperty}"` : '';
      return `mapping${e.instancePath || ''}: ${e.message}${extra}`;
    });
    throw new HubError('TL_ERR_CONNECTOR_CONFIG', `Invalid mapping: ${[...new Set(problems)].join('; ')}`, { problems });
  }
  const problems = problemsOf(mapping as Mapping, department).map((p) => `mapping${p}`);
  if (problems.length) throw new HubError('TL_ERR_CONNECTOR_CONFIG', `Invalid mapping: ${problems.join('; ')}`, { problems });
  return mapping as Mapping;
}
