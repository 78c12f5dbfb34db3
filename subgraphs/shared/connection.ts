import { HubError } from '../../platform/errors';

/**
 * Relay cursor connections (`edges { cursor node }`, `pageInfo`, `totalCount`). Cursors are opaque
 * base64url JSON of the keyset position (e.g. `[occurredAt, id]`), so paging is a keyset seek, never OFFSET.
 * `totalCount` is a function: graphql-js calls it only when the field is selected, so the count query runs
 * only when asked for.
 */
export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

export interface Connection<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  totalCount: () => Promise<number> | number;
}

export function pageSize(first: number | null | undefined, argument = 'first'): number {
  if (first === null || first === undefined) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 0 || first > MAX_PAGE_SIZE) {
    throw new HubError('TL_ERR_BAD_USER_INPUT', `${argument} must be an integer from 0 to ${MAX_PAGE_SIZE}, got ${first}`, { argument, value: first });
  }
  return first;
}

export function encodeCursor(position: unknown[]): string {
  return Buffer.from(JSON.stringify(position), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string | null | undefined, length: number, argument = 'after'): unknown[] | null {
  if (cursor === null || cursor === undefined || cursor === '') return null;
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(value) && value.length === length && value.every((v) => typeof v === 'string')) return value;
  } catch {
    // fall through
  }
  throw new HubError('TL_ERR_BAD_USER_INPUT', `${argument} is not a cursor returned by this connection`, { argument });
}

/**
 * A connection from `rows` fetched with LIMIT first + 1 (the extra row only says there is a next page).
 * `after` set means there was a previous page.
 */
export function toConnection<R, T>(rows: R[], first: number, after: string | null | undefined,
  cursorOf: (row: R) => unknown[], nodeOf: (row: R) => T, count: () => Promise<number> | number): Connection<T> {
  const page = rows.slice(0, first);
  const edges = page.map((row) => ({ cursor: encodeCursor(cursorOf(row)), node: nodeOf(row) }));
  return {
    edges,
    pageInfo: {
      hasNextPage: rows.length > first,
      hasPreviousPage: !!after,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges[edges.length - 1]?.cursor ?? null,
    },
    totalCount: count,
  };
}
