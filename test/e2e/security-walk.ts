import {
  getNamedType, isEnumType, isInterfaceType, isListType, isNonNullType, isObjectType, isScalarType, isUnionType,
  type GraphQLArgument, type GraphQLObjectType, type GraphQLSchema,
} from 'graphql';

/**
 * Queries that select every scalar field reachable from each root query field of a schema, to a depth: the
 * "every field of every type" walk of the PII test. A type already on the path is not entered again (its
 * fields are selected where it was first met), so the queries stay finite; connections get `first: 5`.
 * Arguments: `first` is always given; optional ones are left out; required ones come from `fill` (by the
 * root field and the argument's name) or the field is skipped.
 */
export interface WalkQuery {
  root: string;
  query: string;
  /** `Type.field` of every scalar/enum field the query selects. */
  covered: Set<string>;
}

export type ArgFill = (root: string, arg: GraphQLArgument) => string | undefined;

function argsOf(root: string, args: readonly GraphQLArgument[], fill: ArgFill): string | null {
  const out: string[] = [];
  for (const arg of args) {
    const named = getNamedType(arg.type);
    if (arg.name === 'first') { out.push('first: 5'); continue; }
    const given = fill(root, arg);
    if (given !== undefined) { out.push(`${arg.name}: ${given}`); continue; }
    if (!isNonNullType(arg.type)) continue;
    if (isEnumType(named)) {
      const v = named.getValues()[0]!.name;
      out.push(`${arg.name}: ${isListType(isNonNullType(arg.type) ? arg.type.ofType : arg.type) ? `[${v}]` : v}`);
      continue;
    }
    return null;
  }
  return out.length ? `(${out.join(', ')})` : '';
}

function selection(schema: GraphQLSchema, root: string, type: GraphQLObjectType, depth: number, onPath: ReadonlySet<string>, fill: ArgFill, covered: Set<string>): string {
  const parts: string[] = [];
  for (const field of Object.values(type.getFields())) {
    const args = argsOf(root, field.args, fill);
    if (args === null) continue;
    const named = getNamedType(field.type);
    if (isScalarType(named) || isEnumType(named)) {
      parts.push(`${field.name}${args}`);
      covered.add(`${type.name}.${field.name}`);
      continue;
    }
    if (depth <= 0) continue;
    const targets = isObjectType(named) ? [named] : (isInterfaceType(named) || isUnionType(named)) ? schema.getPossibleTypes(named) : [];
    const inner: string[] = [];
    for (const target of targets) {
      if (onPath.has(target.name)) continue;
      const sub = selection(schema, root, target, depth - 1, new Set([...onPath, target.name]), fill, covered);
      if (sub) inner.push(isObjectType(named) ? sub : `... on ${target.name} { ${sub} }`);
    }
    if (inner.length) parts.push(`${field.name}${args} { ${isObjectType(named) ? inner.join(' ') : `__typename ${inner.join(' ')}`} }`);
  }
  return parts.join(' ');
}

export function walkQueries(schema: GraphQLSchema, depth: number, fill: ArgFill): WalkQuery[] {
  const query = schema.getQueryType()!;
  const out: WalkQuery[] = [];
  for (const field of Object.values(query.getFields())) {
    if (field.name.startsWith('_')) continue;
    const args = argsOf(field.name, field.args, fill);
    if (args === null) continue;
    const named = getNamedType(field.type);
    const covered = new Set<string>();
    let body = '';
    if (isObjectType(named)) {
      const sub = selection(schema, field.name, named, depth - 1, new Set([named.name]), fill, covered);
      if (!sub) continue;
      body = `{ ${sub} }`;
    } else if (isScalarType(named) || isEnumType(named)) {
      covered.add(`Query.${field.name}`);
    } else continue;
    out.push({ root: field.name, query: `query Walk_${field.name} { ${field.name}${args} ${body} }`, covered });
  }
  return out;
}

/** Every string in a JSON value (keys excluded). */
export function stringsIn(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (typeof value === 'number') out.push(String(value));
  else if (Array.isArray(value)) for (const v of value) stringsIn(v, out);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) stringsIn(v, out);
  return out;
}
