import type { PoolClient } from '../platform/db';

/**
 * The linking lock: a transaction-scoped advisory lock that every writer of the person graph takes first, before
 * it reads or locks anything of it: linking batches (person-linking.ts, their places: index.ts linkPlaces) and the
 * review queue's operations that move records between persons (accept, merge, split: review.ts). Held until the
 * transaction ends, so whatever the previous holder wrote is committed and visible when the next one gets it.
 *
 * The review operations take it too, so that a merge or split cannot run between a linking batch's reads and its
 * writes: without it a merge of person B committed meanwhile moved B's records and department rows to the kept
 * person, and the batch then wrote a new record, department row and keys for B (merged), which no look-up finds
 * any more (they skip merged persons). Taking it first, before any row lock, keeps the order the same for every
 * holder (no deadlock between a review that locked a row and a batch that needs that row).
 */
const LINKING_LOCK_KEY = 7_401_300;

/** The lock's statement, for callers that send it together with other statements. */
export const LINKING_LOCK_SQL = `SELECT pg_advisory_xact_lock(${LINKING_LOCK_KEY})`;

/** Takes the linking lock for the rest of the client's transaction (waits while another transaction holds it). */
export async function takeLinkingLock(client: PoolClient): Promise<void> {
  await client.query(LINKING_LOCK_SQL);
}
