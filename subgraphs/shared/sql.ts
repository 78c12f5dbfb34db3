import { HubError } from '../../platform/errors';

/** Small helpers for set-based loaders: every loader runs one statement for all keys of a request. */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

/** Throws TL_ERR_BAD_USER_INPUT naming the argument when `value` is not a UUID. */
export function assertUuid(value: unknown, argument: string): string {
  if (!isUuid(value)) throw new HubError('TL_ERR_BAD_USER_INPUT', `${argument} must be an id returned by the hub (a UUID), got ${JSON.stringify(value)}`, { argument });
  return value;
}

/** Group rows by a key column, in the order of `keys` (DataLoader's contract): one entry per key. */
export function groupRows<R extends object>(keys: readonly string[], rows: R[], keyColumn = '_key'): R[][] {
  const byKey = new Map<string, R[]>();
  for (const row of rows) {
    const k = String((row as Record<string, unknown>)[keyColumn]);
    let list = byKey.get(k);
    if (!list) byKey.set(k, (list = []));
    list.push(row);
  }
  return keys.map((k) => byKey.get(k) ?? []);
}

/** The first row per key, or null. */
export function firstRows<R extends object>(keys: readonly string[], rows: R[], keyColumn = '_key'): (R | null)[] {
  return groupRows(keys, rows, keyColumn).map((list) => list[0] ?? null);
}

/** ISO 8601 string of a timestamptz value (null stays null). */
export function iso(value: Date | string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  return value instanceof Date ? value.toISOString() : new Date(value).toISOString();
}

/** SQL expression rendering a timestamptz as a microsecond-exact UTC ISO string (keyset cursors). */
export function isoSql(column: string): string {
  return `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}

/** Parse an ISO 8601 argument; TL_ERR_BAD_USER_INPUT naming it when it is not a time. */
export function parseTime(value: string, argument: string): string {
  const t = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(t)) {
    throw new HubError('TL_ERR_BAD_USER_INPUT', `${argument} must be an ISO 8601 date or time, got ${JSON.stringify(value)}`, { argument });
  }
  return new Date(t).toISOString();
}
