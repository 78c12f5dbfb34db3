import type { PoolClient } from '../platform/db';

/**
 * The keys of persons without an ID number (core.person_open_keys), as this process has read them. A batch whose
 * mentions carry valid numbers looks for such persons by its mentions' keys (absorption, adoption); with the table's
 * keys at hand only the keys that are there are sent, a few hundred instead of some 47,000 for 10,000 registered
 * persons (docs/linking.md, rounds 19 and 21).
 *
 * Read incrementally: every row has a rising `seq` (migration 0372), and every writer of the table holds the linking
 * lock until it commits (linking-lock.ts), as a batch does when it reads here; so the rows after the last `seq` read
 * are all that was added since. Nothing removes a key when its person takes a number or is merged (the look-up joins
 * core.persons and skips those); the review queue's merges and splits delete keys of the persons they drop. So the set
 * is a superset of the table's keys: a key that left the table is looked up in vain, none is missed.
 *
 * The table is rebuilt with the other key table after a crash empties them (unlogged; person-linking.ts ensureKeys),
 * with a new sentinel row in core.person_keys: the keys are valid for the generation they were read under (the
 * database and the sentinel's xmin, read with them), and read again from the start when it changes. Bounded: past
 * `max` keys the set is given up for that generation, and batches send all their keys, as without it.
 */
export class OpenKeySet {
  private keys = new Set<string>();
  private generation: string | null = null;
  private last = '0';
  private full = false;

  constructor(private readonly max = 500_000) {}

  /** The keys of persons without a number (a superset), or null when they cannot be told (rebuilding, too many). */
  async read(client: PoolClient, sentinel: { key: string; personId: string }): Promise<ReadonlySet<string> | null> {
    // Once given up, only the generation is read (LIMIT 0), to start again when it changes.
    const fromStart = this.last === '0' && !this.full && this.keys.size === 0;
    let delta = await readAfter(client, sentinel, this.last, this.full ? 0 : this.max - this.keys.size + 1);
    if (delta.generation !== this.generation) {
      const complete = fromStart;
      this.keys = new Set();
      this.generation = delta.generation;
      this.last = '0';
      this.full = false;
      // Rows of the new generation may have any seq: read from the start (unless that is what was read).
      if (delta.generation !== null && !complete) delta = await readAfter(client, sentinel, '0', this.max + 1);
    }
    if (this.generation === null || this.full) return null;
    if (this.keys.size + delta.keys.length > this.max) {
      this.full = true;
      this.keys = new Set();
      return null;
    }
    for (const k of delta.keys) this.keys.add(k);
    if (delta.last !== null) this.last = delta.last;
    return this.keys;
  }
}

/** The table's rows after `last` (at most `limit` of them), with the key tables' generation. */
async function readAfter(client: PoolClient, sentinel: { key: string; personId: string }, last: string, limit: number):
  Promise<{ generation: string | null; last: string | null; keys: string[] }> {
  // The keys as an array (not one joined text): a key may hold any character, and a batch reads a few hundred.
  const r = await client.query<{ generation: string | null; last: string | null; keys: string[] | null }>(
    `SELECT (SELECT current_database() || ':' || xmin::text FROM core.person_keys WHERE key = $1 AND person_id = $2) AS generation,
            max(seq)::text AS last, array_agg(key) AS keys
       FROM (SELECT seq, key FROM core.person_open_keys WHERE seq > $3::bigint ORDER BY seq LIMIT $4) k`,
    [sentinel.key, sentinel.personId, last, limit]);
  const row = r.rows[0]!;
  return { generation: row.generation, last: row.last, keys: row.keys ?? [] };
}

/** The process's set. A batch of another database reads another generation (it names the database), which empties it. */
export const openKeySet = new OpenKeySet();
