import { readFileSync } from 'node:fs';
import {
  getNamedType, isEnumType, isInputObjectType, isListType, isNonNullType, isScalarType, parse, typeFromAST,
  type GraphQLInputType, type GraphQLSchema, type OperationDefinitionNode,
} from 'graphql';
import type { Logger } from '../../platform/logger';
import type { Identity } from '../../security/identity';

/**
 * Warms the gateway's query-plan cache (and Apollo Server's parsed/validated document cache) with the
 * operations the hub knows it will be asked — the persisted-operations manifest, or a list handed in — at
 * start-up, so the first client of each operation does not pay for planning.
 *
 * Each query is run once through the gateway's own path as an identity that sees nothing (a grid worker with
 * no grids), with placeholder variables of the right types: @apollo/gateway checks variables before it plans,
 * then plans and caches, and the subgraphs answer empty results at once. Mutations are never run.
 */
export const WARMUP_IDENTITY: Identity = Object.freeze({ sub: 'gateway:plan-warmup', role: 'grid-worker', grids: [], districts: [], scopes: [] }) as Identity;

type Execute = (request: { query: string; variables?: Record<string, unknown>; operationName?: string }, identity: Identity) => Promise<{ errors?: readonly { extensions?: Record<string, unknown> }[] }>;

/** A placeholder value of an input type (required input fields filled, optional ones left out). */
export function placeholderOf(type: GraphQLInputType): unknown {
  if (isNonNullType(type)) return placeholderOf(type.ofType);
  if (isListType(type)) return [];
  if (isEnumType(type)) return type.getValues()[0]?.value ?? null;
  if (isInputObjectType(type)) {
    const out: Record<string, unknown> = {};
    for (const field of Object.values(type.getFields())) if (isNonNullType(field.type) && field.defaultValue === undefined) out[field.name] = placeholderOf(field.type);
    return out;
  }
  if (isScalarType(type)) {
    switch (getNamedType(type).name) {
      case 'Int': case 'Float': return 0;
      case 'Boolean': return false;
      case 'JSON': return {};
      default: return '0';
    }
  }
  return null;
}

/** Operations in a persisted-operations file: an Apollo manifest (`operations[].body`), a `{hash: query}` map, or an array of queries. */
export function operationsInFile(path: string): string[] {
  const json = JSON.parse(readFileSync(path, 'utf8')) as unknown;
  if (Array.isArray(json)) return json.filter((q): q is string => typeof q === 'string');
  if (json && typeof json === 'object') {
    const ops = (json as { operations?: { body?: unknown }[] }).operations;
    if (Array.isArray(ops)) return ops.map((o) => o.body).filter((q): q is string => typeof q === 'string');
    return Object.values(json).filter((q): q is string => typeof q === 'string');
  }
  return [];
}

export async function warmQueryPlans(options: { execute: Execute; schema: GraphQLSchema; operations: string[]; log: Logger }): Promise<{ warmed: number; skipped: number; failed: number }> {
  let warmed = 0, skipped = 0, failed = 0;
  const started = Date.now();
  for (const query of options.operations) {
    let operations: OperationDefinitionNode[];
    try {
      operations = parse(query).definitions.filter((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition');
    } catch {
      failed++;
      continue;
    }
    for (const op of operations) {
      if (op.operation !== 'query' || (operations.length > 1 && !op.name)) {
        skipped++;
        continue;
      }
      const variables: Record<string, unknown> = {};
      for (const v of op.variableDefinitions ?? []) {
        const type = typeFromAST(options.schema, v.type as never) as GraphQLInputType | undefined;
        if (type && isNonNullType(type) && !v.defaultValue) variables[v.variable.name.value] = placeholderOf(type);
      }
      try {
        const result = await options.execute({ query, variables, ...(op.name ? { operationName: op.name.value } : {}) }, WARMUP_IDENTITY);
        // Refused before planning (variables or validation): not warmed. Errors after planning (scope) are fine.
        const refused = (result.errors ?? []).some((e) => ['TL_ERR_BAD_USER_INPUT', 'BAD_USER_INPUT', 'GRAPHQL_VALIDATION_FAILED'].includes(String(e.extensions?.code)));
        if (refused) {
          failed++;
          options.log.warn({ operation: op.name?.value, errors: result.errors }, 'plan warm-up: operation refused');
        } else {
          warmed++;
        }
      } catch (err) {
        failed++;
        options.log.debug({ err: (err as Error).message, operation: op.name?.value }, 'plan warm-up of an operation failed');
      }
    }
  }
  options.log.info({ warmed, skipped, failed, ms: Date.now() - started }, 'query plans warmed');
  return { warmed, skipped, failed };
}
