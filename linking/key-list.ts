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
 * docs/linking.md round 14). The plan is the same index probe. `constant(n)` is the plain form, for a pass over a
 * table that compares each row with the list: only a constant list is hashed for that.
 */
export interface KeyList {
  sql: (n: number) => string;
  constant: (n: number) => string;
  value: string | string[];
}

export function keyList(keys: readonly string[]): KeyList {
  const asArray = keys.some((k) => k === '' || k.includes('\u001f'));
  const constant = asArray ? (n: number) => `$${n}::text[]` : (n: number) => `string_to_array($${n}, chr(31))`;
  return { sql: (n) => `(SELECT ${constant(n)})::text[]`, constant, value: asArray ? [...keys] : keys.join('\u001f') };
}
