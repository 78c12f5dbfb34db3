import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import {
  getNamedType, getNullableType, GraphQLError, isCompositeType, isListType, isObjectType, isInterfaceType, Kind,
  type DocumentNode, type FragmentDefinitionNode, type GraphQLCompositeType, type GraphQLField, type GraphQLSchema,
  type OperationDefinitionNode, type SelectionSetNode, type ValidationRule, type ValueNode,
} from 'graphql';
import type { HubConfig } from '../../platform/config';

/**
 * Query limits, checked after parsing and validation and BEFORE execution, so a depth bomb, an alias bomb or a
 * query whose list sizes multiply into millions of rows never reaches a subgraph. Refusals carry
 * `extensions.code = TL_ERR_QUERY_TOO_COMPLEX`, `limit` (which one), `value` and `max`, and HTTP 400.
 *
 * The measure, over the operation with fragments expanded:
 *  - depth       nesting of fields (`persons { edges { node { id } } }` is 4);
 *  - aliases     fields given an alias;
 *  - rootFields  fields of the root selection;
 *  - cost        every object/list field costs 1 times the list sizes above it: a field with a `first`/`last`
 *                argument multiplies what is below it by that value (or its default, or `defaultPageSize`),
 *                another list field by `defaultListSize`; `edges`/`nodes` of a Connection add no factor of
 *                their own (the `first` above them already did);
 *  - pageSize    the largest `first`/`last` asked for;
 *  - fields      the number of fields after fragment expansion (bounds fragment bombs and plain size).
 *
 * Wiring: `plugins: [queryLimitsPlugin(limitsFromConfig(config))]` in @apollo/server (it reads the
 * variables, so `first: $n` is costed with the real n); for other executors (the graphql-ws endpoint)
 * call `checkQueryLimits(...)` and refuse when it returns an error; `queryLimitsRule(limits)` is the same
 * check as a graphql-js ValidationRule where variables are unknown (their defaults are used).
 */
export interface QueryLimits {
  maxDepth: number;
  maxAliases: number;
  maxRootFields: number;
  maxCost: number;
  maxPageSize: number;
  maxFields: number;
  defaultPageSize: number;
  defaultListSize: number;
}

export const DEFAULT_QUERY_LIMITS: Readonly<QueryLimits> = Object.freeze({
  maxDepth: 15,
  maxAliases: 30,
  maxRootFields: 15,
  maxCost: 20_000,
  maxPageSize: 500,
  maxFields: 5_000,
  defaultPageSize: 20,
  defaultListSize: 10,
});

export type LimitName = 'depth' | 'aliases' | 'rootFields' | 'cost' | 'pageSize' | 'fields';

export interface QueryMeasure {
  depth: number;
  aliases: number;
  rootFields: number;
  cost: number;
  pageSize: number;
  fields: number;
  /** The path of the deepest field, for the message. */
  deepestPath: string[];
  /** The list factors behind the cost (`persons×100`, `events×50`). */
  costPath: string[];
}

export interface LimitViolation {
  limit: LimitName;
  value: number;
  max: number;
  message: string;
}

export const QUERY_TOO_COMPLEX = 'TL_ERR_QUERY_TOO_COMPLEX';

class Stop extends Error {}

function intValue(node: ValueNode | undefined, variables: Record<string, unknown> | undefined, defaults: Map<string, ValueNode>): number | undefined {
  if (!node) return undefined;
  if (node.kind === Kind.INT) return Number(node.value);
  if (node.kind === Kind.VARIABLE) {
    const v = variables?.[node.name.value];
    if (typeof v === 'number') return v;
    if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
    return intValue(defaults.get(node.name.value), undefined, defaults);
  }
  return undefined;
}

/**
 * Measure one operation. Stops early (the returned violation says where) once a limit is exceeded, so the
 * measuring itself stays cheap on hostile input.
 */
export function measureOperation(
  schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode,
  variables: Record<string, unknown> | undefined, limits: QueryLimits,
): { measure: QueryMeasure; violation: LimitViolation | null } {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const def of document.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
  const defaults = new Map<string, ValueNode>();
  for (const v of operation.variableDefinitions ?? []) if (v.defaultValue) defaults.set(v.variable.name.value, v.defaultValue);

  const m: QueryMeasure = { depth: 0, aliases: 0, rootFields: 0, cost: 0, pageSize: 0, fields: 0, deepestPath: [], costPath: [] };
  let violation: LimitViolation | null = null;
  const fail = (limit: LimitName, value: number, max: number, message: string): never => {
    violation = { limit, value, max, message };
    throw new Stop();
  };

  const root = schema.getRootType(operation.operation) ?? undefined;

  const walk = (set: SelectionSetNode, parent: GraphQLCompositeType | undefined, depth: number, factor: number,
    path: string[], factors: string[], inFragments: Set<string>) => {
    for (const sel of set.selections) {
      if (sel.kind === Kind.FRAGMENT_SPREAD) {
        const name = sel.name.value;
        const frag = fragments.get(name);
        if (!frag || inFragments.has(name)) continue; // unknown or cyclic: validation reports it
        const type = schema.getType(frag.typeCondition.name.value);
        walk(frag.selectionSet, isCompositeType(type) ? type : parent, depth, factor, path, factors, new Set(inFragments).add(name));
        continue;
      }
      if (sel.kind === Kind.INLINE_FRAGMENT) {
        const type = sel.typeCondition ? schema.getType(sel.typeCondition.name.value) : parent;
        walk(sel.selectionSet, isCompositeType(type) ? type : parent, depth, factor, path, factors, inFragments);
        continue;
      }
      const name = sel.name.value;
      const key = sel.alias?.value ?? name;
      const here = [...path, key];
      m.fields += 1;
      if (m.fields > limits.maxFields) fail('fields', m.fields, limits.maxFields, `the query expands to more than ${limits.maxFields} fields`);
      if (sel.alias && sel.alias.value !== name) {
        m.aliases += 1;
        if (m.aliases > limits.maxAliases) fail('aliases', m.aliases, limits.maxAliases, `${m.aliases} aliases exceed the limit of ${limits.maxAliases}`);
      }
      if (depth === 1) {
        m.rootFields += 1;
        if (m.rootFields > limits.maxRootFields) fail('rootFields', m.rootFields, limits.maxRootFields, `${m.rootFields} root fields exceed the limit of ${limits.maxRootFields}`);
      }
      if (depth > m.depth) {
        m.depth = depth;
        m.deepestPath = here;
        if (depth > limits.maxDepth) fail('depth', depth, limits.maxDepth, `depth ${depth} exceeds the limit of ${limits.maxDepth} (at ${here.join('.')})`);
      }
      if (!sel.selectionSet) continue;

      const field: GraphQLField<unknown, unknown> | undefined = parent && (isObjectType(parent) || isInterfaceType(parent)) ? parent.getFields()[name] : undefined;
      let childFactor = factor;
      let childFactors = factors;
      if (field) {
        const pageArg = field.args.find((a) => a.name === 'first' || a.name === 'last');
        const inConnection = parent!.name.endsWith('Connection') && (name === 'edges' || name === 'nodes');
        if (pageArg) {
          const given = sel.arguments?.find((a) => a.name.value === 'first' || a.name.value === 'last');
          const requested = intValue(given?.value, variables, defaults);
          const size = requested ?? (typeof pageArg.defaultValue === 'number' ? pageArg.defaultValue : limits.defaultPageSize);
          if (size > limits.maxPageSize) fail('pageSize', size, limits.maxPageSize, `${given?.name.value ?? 'first'}: ${size} on ${here.join('.')} exceeds the page limit of ${limits.maxPageSize}`);
          m.pageSize = Math.max(m.pageSize, size);
          childFactor = factor * Math.max(size, 1);
          childFactors = [...factors, `${key}×${size}`];
        } else if (!inConnection && isListType(getNullableType(field.type))) {
          childFactor = factor * limits.defaultListSize;
          childFactors = [...factors, `${key}×${limits.defaultListSize}`];
        }
      }
      m.cost += factor;
      if (m.cost > limits.maxCost || childFactor > limits.maxCost) {
        const value = Math.max(m.cost, childFactor);
        fail('cost', value, limits.maxCost,
          `estimated cost ${value} exceeds the limit of ${limits.maxCost} (list sizes multiply: ${(childFactors.length ? childFactors : [key]).join(' × ')})`);
      }
      if (childFactors.length > m.costPath.length) m.costPath = childFactors;
      const named = field ? getNamedType(field.type) : undefined;
      walk(sel.selectionSet, isCompositeType(named) ? named : undefined, depth + 1, childFactor, here, childFactors, inFragments);
    }
  };

  try {
    walk(operation.selectionSet, root, 1, 1, [], [], new Set());
  } catch (err) {
    if (!(err instanceof Stop)) throw err;
  }
  return { measure: m, violation };
}

export function tooComplexError(violation: LimitViolation): GraphQLError {
  return new GraphQLError(`Query too complex: ${violation.message}`, {
    extensions: { code: QUERY_TOO_COMPLEX, limit: violation.limit, value: violation.value, max: violation.max, http: { status: 400 } },
  });
}

/** The refusal for an operation, or null when it is within the limits. */
export function checkQueryLimits(schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined,
  variables: Record<string, unknown> | undefined, limits: QueryLimits = DEFAULT_QUERY_LIMITS): GraphQLError | null {
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const operation = operationName ? operations.find((o) => o.name?.value === operationName) : operations.length === 1 ? operations[0] : undefined;
  if (!operation) return null; // graphql-js reports the missing/ambiguous operation itself
  const { violation } = measureOperation(schema, document, operation, variables, limits);
  return violation ? tooComplexError(violation) : null;
}

/** The same limits as a graphql-js validation rule (variables unknown: their defaults or defaultPageSize). */
export function queryLimitsRule(limits: QueryLimits = DEFAULT_QUERY_LIMITS): ValidationRule {
  return (context) => ({
    Document: {
      leave(document) {
        for (const def of document.definitions) {
          if (def.kind !== Kind.OPERATION_DEFINITION) continue;
          const { violation } = measureOperation(context.getSchema(), document, def, undefined, limits);
          if (violation) context.reportError(tooComplexError(violation));
        }
      },
    },
  });
}

/**
 * @apollo/server plugin: refuses an over-limit operation after validation, before execution.
 * `bypass` exempts the hub's own operations: the change-event enrichment batches the entities of many events
 * into one query (one aliased root field per entity), whose size is the batch's, not a client's choice; the
 * subscriber's own selection was measured against these limits when it subscribed.
 */
export function queryLimitsPlugin<TContext extends BaseContext>(limits: QueryLimits = DEFAULT_QUERY_LIMITS,
  options: { bypass?: (context: TContext) => boolean } = {}): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation(requestContext) {
          if (!requestContext.operation) return;
          if (options.bypass?.(requestContext.contextValue)) return;
          const { violation } = measureOperation(requestContext.schema, requestContext.document, requestContext.operation,
            requestContext.request.variables as Record<string, unknown> | undefined, limits);
          if (violation) throw tooComplexError(violation);
        },
      };
    },
  };
}

/** Limits from configuration (QUERY_MAX_* variables), defaults for anything not set. */
export function limitsFromConfig(config: Partial<Pick<HubConfig, 'QUERY_MAX_DEPTH' | 'QUERY_MAX_ALIASES' | 'QUERY_MAX_ROOT_FIELDS' | 'QUERY_MAX_COST' | 'QUERY_MAX_PAGE_SIZE'>>): QueryLimits {
  return {
    ...DEFAULT_QUERY_LIMITS,
    ...(config.QUERY_MAX_DEPTH ? { maxDepth: config.QUERY_MAX_DEPTH } : {}),
    ...(config.QUERY_MAX_ALIASES ? { maxAliases: config.QUERY_MAX_ALIASES } : {}),
    ...(config.QUERY_MAX_ROOT_FIELDS ? { maxRootFields: config.QUERY_MAX_ROOT_FIELDS } : {}),
    ...(config.QUERY_MAX_COST ? { maxCost: config.QUERY_MAX_COST } : {}),
    ...(config.QUERY_MAX_PAGE_SIZE ? { maxPageSize: config.QUERY_MAX_PAGE_SIZE } : {}),
  };
}
