import { buildSchema, getNamedType, isInterfaceType, isObjectType, type GraphQLSchema } from 'graphql';
import { readCommittedSupergraph } from '../../schema/supergraph';
import { looksSensitive, SENSITIVE_FIELDS } from '../masking';

/**
 * The field policy must cover the whole graph: every field of every type of the committed supergraph whose
 * name or type says "sensitive" is listed in SENSITIVE_FIELDS, and every listed field exists. A new
 * `...IdNumber`/`...Phone` field added to a subgraph without a policy fails here.
 */
const SENSITIVE_TYPES = new Set(['Correction']);

describe('sensitive field coverage of the supergraph', () => {
  let schema: GraphQLSchema;
  beforeAll(() => {
    schema = buildSchema(readCommittedSupergraph(), { assumeValidSDL: true });
  });

  it('lists every field that looks sensitive', () => {
    const unlisted: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (type.name.startsWith('__') || !(isObjectType(type) || isInterfaceType(type))) continue;
      for (const field of Object.values(type.getFields())) {
        const sensitive = looksSensitive(field.name) || SENSITIVE_TYPES.has(getNamedType(field.type).name);
        if (sensitive && !SENSITIVE_FIELDS[type.name]?.[field.name]) unlisted.push(`${type.name}.${field.name}`);
      }
    }
    expect(unlisted).toEqual([]);
  });

  it('lists only fields that exist', () => {
    const missing: string[] = [];
    for (const [typeName, fields] of Object.entries(SENSITIVE_FIELDS)) {
      const type = schema.getType(typeName);
      for (const field of Object.keys(fields)) {
        if (!type || !(isObjectType(type) || isInterfaceType(type)) || !type.getFields()[field]) missing.push(`${typeName}.${field}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('recognises the sensitive names it is meant to', () => {
    expect(looksSensitive('supportsIncremental')).toBeNull();
    expect(looksSensitive('mentalHealthStatus')).toBe('mental_health');
    expect(looksSensitive('headIdNumber')).toBe('id_number');
  });
});
