import crypto from 'node:crypto';
import { BUILTIN_CODE_TABLES, lookupCode, type CodeTable } from './code-tables';
import { compileDateParser, type DateFormat } from './dates';
import { normaliseIdNumber } from './id-number';
import { toHalfWidth, trimAll } from './text';
import type { FieldError, FieldMapping, FieldSpec, Mapping, MappedRecord, StreamMapping } from './types';

/**
 * Compiles a stream's mapping into a function from a source record to a mapped row (or the list of every
 * field that failed, with its reason). Compiled once per run: each field becomes a closure, so the per-row
 * cost is a few property reads and conversions, not an interpretation of the JSON.
 */

/** PostgreSQL type of each column of the target table (information_schema `data_type`). */
export type ColumnTypes = ReadonlyMap<string, string>;

/** Columns the pipeline itself fills: a mapping may not write them. */
export const MANAGED_COLUMNS = new Set(['id', 'person_id', 'place_id', 'event_id', '_connector_id', '_record_key', '_row_hash', '_source_updated_at', '_synced_at', '_deleted_at']);

type Converter = (record: Record<string, unknown>, errors: FieldError[], out: Record<string, unknown>) => void;

export interface CompiledStream {
  stream: string;
  mapping: StreamMapping;
  /** Target columns written by the mapping, in a fixed order (staging and hash use it). */
  columns: string[];
  /** Source columns the mapping reads (a record's other columns are reported as schema changes). */
  sourceColumns: Set<string>;
  map(record: Record<string, unknown>): MappedRecord;
}

function getPath(record: Record<string, unknown>, path: string): unknown {
  if (Object.prototype.hasOwnProperty.call(record, path)) return record[path];
  if (!path.includes('.')) return undefined;
  let cur: unknown = record;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function isEmpty(v: unknown, emptyAsNull: boolean): boolean {
  return v === undefined || v === null || (emptyAsNull && typeof v === 'string' && v === '');
}

function resolveTable(codes: FieldSpec['codes'], mapping: Mapping, where: string): CodeTable {
  if (codes === undefined) return {};
  if (typeof codes === 'object') return codes;
  const table = mapping.codeTables?.[codes] ?? BUILTIN_CODE_TABLES[codes];
  if (!table) throw new Error(`${where}: unknown code table "${codes}"`);
  return table;
}

function normaliseSpec(m: FieldMapping): FieldSpec {
  return typeof m === 'string' ? { from: m } : m;
}

const NUMERIC_TYPES = new Set(['integer', 'bigint', 'smallint', 'numeric', 'double precision', 'real']);
const SHORT_TYPES = new Set([...NUMERIC_TYPES, 'date', 'timestamp with time zone', 'timestamp without time zone', 'boolean', 'uuid']);

const hasOwn = Object.prototype.hasOwnProperty;

/** A reader of one source path, specialised at compile time (a plain column is one own-property read). */
function pathReader(path: string): (record: Record<string, unknown>) => unknown {
  if (!path.includes('.')) return (record) => (hasOwn.call(record, path) ? record[path] : undefined);
  return (record) => getPath(record, path);
}

/** Returned by a type conversion that pushed an error: the field is not written. */
const FAILED: unique symbol = Symbol('failed');
type Conversion = (value: unknown, errors: FieldError[]) => unknown;

const NUMBER_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const UUID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Compile one field. `type` is the PostgreSQL type of the target column ('jsonb-item' for a key inside a
 * jsonb array element, which is kept as text unless it is an ID number).
 *
 * Every decision that depends only on the mapping (where the value comes from, which clean-ups apply, the
 * column type's conversion, the zone of a date) is taken here, once; the returned closure does only the
 * steps this field has, in the same order and with the same reasons as the general rules of the DSL.
 */
function compileField(field: string, spec: FieldSpec, type: string, mapping: Mapping, rawField: string | null): Converter {
  const sources = spec.from === undefined ? [] : Array.isArray(spec.from) ? spec.from : [spec.from];
  const trim = spec.trim !== false;
  const halfWidth = spec.halfWidth ?? (SHORT_TYPES.has(type) || spec.idNumber === true || spec.codes !== undefined);
  const emptyAsNull = spec.emptyAsNull !== false;
  const table = spec.codes !== undefined ? resolveTable(spec.codes, mapping, `field ${field}`) : null;
  const unknownCode = spec.unknownCode ?? 'error';
  const formats: DateFormat[] = spec.format === undefined ? ['auto'] : Array.isArray(spec.format) ? spec.format : [spec.format];
  const zone = spec.timezone ?? mapping.timezone ?? 'Asia/Shanghai';
  const pattern = spec.pattern ? new RegExp(spec.pattern) : null;
  const enumSet = spec.enum ? new Set(spec.enum) : null;
  const template = spec.template ? spec.template.split(/(\{[^}]+\})/).filter(Boolean) : null;
  const items = spec.items ? Object.entries(spec.items).map(([k, m]) => {
    const s = normaliseSpec(m);
    return compileField(k, s, 'jsonb-item', mapping, s.idNumber ? (s.rawField ?? `${k}Raw`) : null);
  }) : null;
  const objects = spec.objects ? spec.objects.map((o) => Object.entries(o).map(([k, m]) => {
    const s = normaliseSpec(m);
    return { key: k, constant: 'const' in s, convert: compileField(k, s, 'jsonb-item', mapping, s.idNumber ? (s.rawField ?? `${k}Raw`) : null) };
  })) : null;
  const hasConst = 'const' in spec;
  const constant = spec.const;
  const fallback = spec.default ?? null;
  const upper = spec.case === 'upper';
  const lower = spec.case === 'lower';
  const idNumber = spec.idNumber === true;
  const invalidAsNull = spec.invalidIdNumber === 'null';
  const required = !!spec.required;
  const requiredReason = sources.length ? `required, but source ${sources.join(' / ')} is empty` : 'required, but empty';
  const checks = enumSet !== null || pattern !== null || spec.maxLength !== undefined;
  const enumReason = enumSet ? `not one of ${[...enumSet].join(', ')}` : '';

  // Where the value comes from.
  let read: (record: Record<string, unknown>, errors: FieldError[]) => unknown;
  if (hasConst) read = () => constant;
  else if (objects) {
    read = (record, errors) => {
      const list: Record<string, unknown>[] = [];
      objects.forEach((fields, i) => {
        const item: Record<string, unknown> = {};
        const itemErrors: FieldError[] = [];
        for (const f of fields) f.convert(record, itemErrors, item);
        if (!fields.some((f) => !f.constant && item[f.key] !== null && item[f.key] !== undefined)) return;
        for (const e of itemErrors) errors.push({ ...e, field: `${field}[${i}].${e.field}` });
        list.push(item);
      });
      return list;
    };
  } else if (template) {
    const parts = template.map((part) => (part.startsWith('{') && part.endsWith('}') ? pathReader(part.slice(1, -1)) : part));
    read = (record) => {
      let s = '';
      let any = false;
      for (const part of parts) {
        if (typeof part === 'string') s += part;
        else {
          const v = part(record);
          if (!isEmpty(v, true)) { s += String(v); any = true; }
        }
      }
      return any ? s : null;
    };
  } else if (sources.length === 1) {
    const one = pathReader(sources[0]!);
    read = (record) => one(record);
  } else if (sources.length === 0) {
    read = () => undefined;
  } else {
    const readers = sources.map(pathReader);
    read = (record) => {
      let value: unknown;
      for (const r of readers) {
        value = r(record);
        if (!isEmpty(value, emptyAsNull) && !(typeof value === 'string' && trim && trimAll(value) === '' && emptyAsNull)) break;
      }
      return value;
    };
  }

  // Conversion to the column's type.
  let convert: Conversion | null;
  switch (type) {
    case 'date':
    case 'timestamp with time zone':
    case 'timestamp without time zone': {
      const parse = compileDateParser(formats, zone, type === 'date' ? 'date' : 'timestamp');
      const reason = `not a date/time in format ${formats.join(' or ')}`;
      convert = (value, errors) => {
        const t = parse(value);
        if (t === null) { errors.push({ field, reason, value }); return FAILED; }
        return t;
      };
      break;
    }
    case 'integer': case 'bigint': case 'smallint': case 'numeric': case 'double precision': case 'real': {
      const fractional = type === 'numeric' || type === 'double precision' || type === 'real';
      const reason = `not ${fractional ? 'a number' : 'an integer'}`;
      const min = spec.min;
      const max = spec.max;
      convert = (value, errors) => {
        const n = typeof value === 'number' ? value : typeof value === 'string' && NUMBER_TEXT.test(value.replace(/,/g, '')) ? Number(value.replace(/,/g, '')) : NaN;
        if (!Number.isFinite(n) || (!fractional && !Number.isInteger(n))) { errors.push({ field, reason, value }); return FAILED; }
        if (min !== undefined && n < min) { errors.push({ field, reason: `below the minimum ${min}`, value: n }); return FAILED; }
        if (max !== undefined && n > max) { errors.push({ field, reason: `above the maximum ${max}`, value: n }); return FAILED; }
        return n;
      };
      break;
    }
    case 'boolean':
      convert = (value, errors) => {
        const b = typeof value === 'boolean' ? value : lookupCode(BUILTIN_CODE_TABLES.yes_no!, String(value));
        if (b === undefined || b === null) { errors.push({ field, reason: 'not a yes/no value', value }); return FAILED; }
        return b === true || b === 'true';
      };
      break;
    case 'jsonb': case 'json':
      convert = (value, errors) => {
        let v = value;
        if (typeof v === 'string') {
          try { v = JSON.parse(v); } catch { errors.push({ field, reason: 'not valid JSON', value }); return FAILED; }
        }
        if (items) {
          if (!Array.isArray(v)) { errors.push({ field, reason: 'expected an array', value }); return FAILED; }
          const mappedItems: Record<string, unknown>[] = [];
          for (let i = 0; i < v.length; i++) {
            if (!(i in v)) continue; // as forEach: a hole is no element
            const el: unknown = v[i];
            const itemErrors: FieldError[] = [];
            const item: Record<string, unknown> = {};
            const src = el !== null && typeof el === 'object' ? el as Record<string, unknown> : {};
            for (const c of items) c(src, itemErrors, item);
            for (const e of itemErrors) errors.push({ ...e, field: `${field}[${i}].${e.field}` });
            mappedItems.push(item);
          }
          v = mappedItems;
        }
        return v;
      };
      break;
    case 'uuid':
      convert = (value, errors) => {
        if (typeof value !== 'string' || !UUID_TEXT.test(value)) { errors.push({ field, reason: 'not a UUID', value }); return FAILED; }
        return value;
      };
      break;
    default:
      convert = null; // text: below
  }

  return (record, errors, out) => {
    let value = read(record, errors);
    if (typeof value === 'string') {
      if (trim) value = trimAll(value);
      if (halfWidth) value = toHalfWidth(value as string);
      if (upper) value = (value as string).toUpperCase();
      else if (lower) value = (value as string).toLowerCase();
    }
    if (value === undefined || value === null || (emptyAsNull && value === '')) value = fallback;

    if (value !== null && table) {
      const code = typeof value === 'string' ? value : String(value);
      const hit = lookupCode(table, code);
      if (hit === undefined) {
        if (unknownCode === 'error') {
          errors.push({ field, reason: `unknown code "${code}"`, value: code });
          return;
        }
        if (unknownCode === 'null') value = null;
      } else value = hit;
    }

    if (idNumber) {
      if (value !== null) {
        const raw = String(value);
        if (rawField) out[rawField] = raw;
        const r = normaliseIdNumber(raw);
        if (r.ok) value = r.value;
        else if (invalidAsNull) value = null;
        else {
          errors.push({ field, reason: `invalid ID number: ${r.reason}`, value: raw });
          return;
        }
      } else if (rawField) out[rawField] = null;
    }

    if (value === null) {
      if (required) errors.push({ field, reason: requiredReason });
      out[field] = null;
      return;
    }

    if (convert) {
      value = convert(value, errors);
      if (value === FAILED) return;
    } else if (typeof value === 'object') {
      if (value instanceof Date) value = value.toISOString();
      else { errors.push({ field, reason: 'expected text, got an object', value }); return; }
    } else if (typeof value !== 'string') value = String(value);
    if (checks && typeof value === 'string') {
      if (enumSet && !enumSet.has(value)) { errors.push({ field, reason: enumReason, value }); return; }
      if (pattern && !pattern.test(value)) { errors.push({ field, reason: `does not match ${spec.pattern}`, value }); return; }
      if (spec.maxLength !== undefined && [...value].length > spec.maxLength) { errors.push({ field, reason: `longer than ${spec.maxLength} characters`, value }); return; }
    }
    out[field] = value;
  };
}

function sourceColumnsOf(spec: FieldSpec, into: Set<string>): void {
  const from = spec.from === undefined ? [] : Array.isArray(spec.from) ? spec.from : [spec.from];
  for (const f of from) into.add(f.split('.')[0]!);
  if (spec.template) for (const m of spec.template.matchAll(/\{([^}]+)\}/g)) into.add(m[1]!.split('.')[0]!);
  for (const o of spec.objects ?? []) for (const f of Object.values(o)) sourceColumnsOf(normaliseSpec(f), into);
}

/** Compile `mapping.streams[stream]` against the target table's column types. Throws on a mapping that cannot work. */
/**
 * `mustFill`: NOT NULL columns without a default (the mapping must write them); `notNull`: every NOT NULL
 * column (a field writing one is required unless it has a `default`).
 */
export function compileStream(mapping: Mapping, stream: string, columnTypes: ColumnTypes, primaryKey: string[] = [], mustFill: ReadonlySet<string> = new Set(), notNull: ReadonlySet<string> = mustFill): CompiledStream {
  const sm = mapping.streams[stream];
  if (!sm) throw new Error(`the mapping has no entry for stream "${stream}"`);
  for (const col of mustFill) {
    if (!MANAGED_COLUMNS.has(col) && !(col in sm.fields)) throw new Error(`streams.${stream}.fields: ${sm.target}.${col} cannot be empty, so the mapping must fill it`);
  }
  const converters: Converter[] = [];
  const columns: string[] = [];
  const sourceColumns = new Set<string>();
  for (const [field, fm] of Object.entries(sm.fields)) {
    const spec = normaliseSpec(fm);
    const type = columnTypes.get(field);
    if (!type) throw new Error(`streams.${stream}.fields.${field}: ${sm.target} has no column "${field}"`);
    if (MANAGED_COLUMNS.has(field)) throw new Error(`streams.${stream}.fields.${field}: the pipeline fills "${field}" itself`);
    let rawField: string | null = null;
    if (spec.idNumber) {
      rawField = spec.rawField ?? (columnTypes.has(`${field}_raw`) ? `${field}_raw` : null);
      if (rawField && !columnTypes.has(rawField)) throw new Error(`streams.${stream}.fields.${field}.rawField: ${sm.target} has no column "${rawField}"`);
      if (rawField && !columns.includes(rawField)) columns.push(rawField);
    }
    if (!columns.includes(field)) columns.push(field);
    sourceColumnsOf(spec, sourceColumns);
    if (spec.items) for (const item of Object.values(spec.items)) sourceColumnsOf(normaliseSpec(item), new Set());
    converters.push(compileField(field, notNull.has(field) && !spec.required && spec.default === undefined ? { ...spec, required: true } : spec, type, mapping, rawField));
  }
  const key = sm.key ?? primaryKey;
  if (!key.length) throw new Error(`streams.${stream}.key: no record key (the stream has no primary key; set "key" to the source columns that identify a record)`);
  for (const k of key) sourceColumns.add(k);
  const updated = sm.updatedAt === undefined ? null : normaliseSpec(sm.updatedAt);
  if (updated) sourceColumnsOf(updated, sourceColumns);
  const updatedConverter = updated ? compileField('_source_updated_at', updated, 'timestamp with time zone', mapping, null) : null;

  return {
    stream,
    mapping: sm,
    columns,
    sourceColumns,
    map(record) {
      let recordKey: string | null = '';
      for (let i = 0; i < key.length; i++) {
        const v = getPath(record, key[i]!);
        if (v === undefined || v === null || (typeof v === 'string' && trimAll(v) === '')) { recordKey = null; break; }
        recordKey += (i ? '|' : '') + (typeof v === 'string' ? trimAll(v) : v instanceof Date ? v.toISOString() : String(v));
      }
      const errors: FieldError[] = [];
      if (recordKey === null) errors.push({ field: '_key', reason: `record key ${key.join(' + ')} is empty` });
      const values: Record<string, unknown> = {};
      for (const c of converters) c(record, errors, values);
      let sourceUpdatedAt: string | null = null;
      if (updatedConverter) {
        const tmp: Record<string, unknown> = {};
        updatedConverter(record, errors, tmp);
        sourceUpdatedAt = (tmp._source_updated_at as string | null) ?? null;
      }
      if (errors.length) return { ok: false, key: recordKey, errors };
      return { ok: true, key: recordKey!, values, sourceUpdatedAt };
    },
  };
}

/**
 * The hash a merge compares to skip unchanged rows: over the mapped values in column order. SHA-1 (base64) of
 * the values joined as `value \u0001` (null as `\u0000`) — one string hashed in one call, the same digest as
 * feeding the parts one by one, so hashes stored by earlier versions still match.
 */
export function rowHash(columns: readonly string[], values: Record<string, unknown>): string {
  let s = '';
  for (let i = 0; i < columns.length; i++) {
    const v = values[columns[i]!];
    s += v === null || v === undefined ? '\u0000\u0001' : typeof v === 'object' ? `${JSON.stringify(v)}\u0001` : `${String(v)}\u0001`;
  }
  return hashText(s);
}

const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'base64') => string }).hash;
function hashText(s: string): string {
  return oneShot ? oneShot('sha1', s, 'base64') : crypto.createHash('sha1').update(s).digest('base64');
}
