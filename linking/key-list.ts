/**
 * A list of keys (ID numbers, blocking keys, names, norm keys of places) as one query parameter, for `= ANY(…)`:
 * one text split in SQL (`string_to_array`, chr(31) between keys) rather than an array node-postgres quotes element
 * by element; the array form when a key holds U+001F (an address as written may hold anything; an empty key, which a
 * joined text could not tell from no key at all).
 *
 * `sql(n)`, for index probes, wraps the list in a one-time subquery, which the planner takes for a value it does not
 * know. Written plainly, the list is a constant when a statement is planned for its parameters (node-postgres'
 * unnamed statements are), and the planner then estimates every element's selectivity against the column's
 * statistics: thousands per batch, a third of the database's planning time in `bench:linking` (perf,
 * docs/linking.md round 14). The plan is the same index probe. A pass over a table that compares each row with the
 * list looks the row up in a hashed subplan of it (`x IN (SELECT unnest(…))`), not in a constant array: that too
 * was estimated element by element, and the planning's memory was a third of the database's page faults
 * (docs/linking.md round 18).
 *
 * The separator, too, is a sub-select (SEPARATOR): with both of its arguments constants, the planner evaluated
 * `string_to_array` itself while planning (constant folding) and carried the whole array through the plan, inside
 * the subquery all the same: 9–35 ms of planning for a batch's 40,000 keys, against 0.6 ms (docs/linking.md
 * round 19). The database then splits the text once, when the statement runs.
 */
export const SEPARATOR = '(SELECT chr(31))';

export interface KeyList {
  sql: (n: number) => string;
  value: string | string[];
}

export function keyList(keys: readonly string[]): KeyList {
  const asArray = keys.some((k) => k === '' || k.includes('\u001f'));
  const plain = asArray ? (n: number) => `$${n}::text[]` : (n: number) => `string_to_array($${n}, ${SEPARATOR})`;
  return { sql: (n) => `(SELECT ${plain(n)})::text[]`, value: asArray ? [...keys] : keys.join('\u001f') };
}
