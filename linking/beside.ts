import type { PoolClient } from '../platform/db';

/**
 * Work done beside a batch: on a connection of its own, in a transaction of its own, while the batch's connection
 * does the rest. Only for what may be committed without the batch and is safe to commit twice: the key tables
 * (derived data, like an index) and the places a batch's addresses resolve to (shared rows keyed by their
 * normalised address, upserted). Both are written by linking (docs/linking.md, "Work beside the batch").
 */

/** Where connections beside the batch come from: a pg Pool (the hub's, the evaluation's). */
export interface BesidePool { connect(): Promise<PoolClient> }

/**
 * A connection from the pool if one is free at once (within a few milliseconds): a batch holding the linking lock
 * must never wait for a connection that only batches waiting for the lock could give back.
 */
export async function connectAtOnce(pool: BesidePool, withinMs = 50): Promise<PoolClient | null> {
  const pending = pool.connect();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<null>((resolve) => { timer = setTimeout(() => resolve(null), withinMs); });
  const got = await Promise.race([pending.catch(() => null), late]);
  clearTimeout(timer);
  if (got) return got;
  // Given back as soon as it comes.
  pending.then((c) => c.release(), () => undefined);
  return null;
}

/**
 * `work` in a transaction of its own on `side`, committed, and the connection given back (closed if it could not
 * be rolled back). A lock wait beside can be a wait the database cannot see as a deadlock (the batch, holding the
 * linking lock, waits in this process for the work beside, which waits on a row of a transaction that waits for
 * the linking lock): lock_timeout ends it, and the caller does the work in the batch instead.
 */
export async function inTransactionBeside<T>(side: PoolClient, work: (side: PoolClient) => Promise<T>): Promise<T> {
  let broken = false;
  try {
    // JIT off, as in sync's batch transaction (sync/run-sync.ts): the work beside is index probes over thousands of
    // rows, and a statement whose cost estimate passes jit_above_cost (stale statistics of tables a run fills) is
    // compiled first: linking's candidate look-up with JIT on took 0.48 s, 0.45 s of it compiling (EXPLAIN, round 11).
    await side.query(`BEGIN; SET LOCAL lock_timeout = '${LOCK_TIMEOUT_BESIDE}'; SET LOCAL jit = off`);
    const out = await work(side);
    await side.query('COMMIT');
    return out;
  } catch (err) {
    await side.query('ROLLBACK').catch(() => { broken = true; });
    throw err;
  } finally {
    side.release(broken);
  }
}

const LOCK_TIMEOUT_BESIDE = '2s';
