import type { PoolClient } from '../platform/db';
import { KEYS_GENERATION_SQL } from './key-generation';

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
 * with a new sentinel row in core.person_keys: the keys are valid for the generation they were read under
 * (linking/key-generation.ts, read with them), and read again from the start when it changes. Bounded: past
 * `max` keys the set is given up for that generation, and batches send all their keys, as without it.
 */
export class OpenKeySet {
  private keys = new Set<string>();
  private generation: string | null = null;
  private last = '0';
  private full = false;

  constructor(private readonly max = 500_000) {}

  /** The keys of persons without a number (a superset), or null when they cannot be told (rebuilding, too many). */
  async read(client: PoolClient): Promise<ReadonlySet<string> | null> {
    // Nothing read yet: this read is from the start, whatever the generation turns out to be.
    const fromStart = this.last === '0' && !this.full;
    // Once given up, only the generation is read (LIMIT 0), to start again when it changes.
    let delta = await readAfter(client, this.last, this.full ? 0 : this.max - this.keys.size + 1);
    if (delta.generation !== this.generation) {
      this.keys = new Set();
      this.generation = delta.generation;
      this.last = '0';
      this.full = false;
      // Rows of the new generation may have any seq: read from the start.
      if (delta.generation !== null && !fromStart) delta = await readAfter(client, '0', this.max + 1);
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
async function readAfter(client: PoolClient, last: string, limit: number):
  Promise<{ generation: string | null; last: string | null; keys: string[] }> {
  // The keys as an array (not one joined text): a key may hold any character, and a batch reads a few hundred.
  const r = await client.query<{ generation: string | null; last: string | null; keys: string[] | null }>(
    `SELECT ${KEYS_GENERATION_SQL} AS generation, max(seq)::text AS last, array_agg(key) AS keys
       FROM (SELECT seq, key FROM core.person_open_keys WHERE seq > $1::bigint ORDER BY seq LIMIT $2) k`,
    [last, limit]);
  const row = r.rows[0]!;
  return { generation: row.generation, last: row.last, keys: row.keys ?? [] };
}

/** The process's set. A batch of another database reads another generation (it names the database), which empties it. */
export const openKeySet = new OpenKeySet();
