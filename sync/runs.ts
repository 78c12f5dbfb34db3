import type { Pool, PoolClient, Queryable } from '../platform/db';
import { HubError, toHubError } from '../platform/errors';

/**
 * Sync runs (hub.sync_runs): queued → running → succeeded | failed | cancelled, with counts, progress and the
 * error of a failed run. At most one active run per connector (a partial unique index, migration 0200); the
 * run being executed is also held by a session advisory lock of the worker's connection, so a run whose
 * worker died (SIGKILL, lost host) is recognised as stale and closed before the next one starts.
 */
export type SyncMode = 'INCREMENTAL' | 'FULL_REFRESH';
export type RunStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface SyncRunRow {
  id: string;
  connector_id: string;
  mode: SyncMode;
  trigger: string;
  status: RunStatus;
  queued_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  records_read: number;
  records_written: number;
  records_unchanged: number;
  records_quarantined: number;
  records_deleted: number;
  progress: Record<string, unknown>;
  schema_changes: unknown[];
  error: Record<string, unknown> | null;
}

/** The advisory lock a worker holds on its connection while it executes a run of this connector. */
export const LOCK_SQL = `hashtextextended('tonglan-sync:' || $1::text, 0)`;

export async function tryLockConnector(client: PoolClient, connectorId: string): Promise<boolean> {
  const { rows } = await client.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock(${LOCK_SQL}) AS ok`, [connectorId]);
  return rows[0]!.ok;
}

export async function unlockConnector(client: PoolClient, connectorId: string): Promise<void> {
  await client.query(`SELECT pg_advisory_unlock(${LOCK_SQL})`, [connectorId]);
}

export async function getRun(db: Queryable, id: string): Promise<SyncRunRow | null> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return null;
  const { rows } = await db.query<SyncRunRow>('SELECT * FROM hub.sync_runs WHERE id = $1', [id]);
  return rows[0] ?? null;
}

export async function listRuns(db: Queryable, connectorId: string, limit = 20): Promise<SyncRunRow[]> {
  const { rows } = await db.query<SyncRunRow>('SELECT * FROM hub.sync_runs WHERE connector_id = $1 ORDER BY queued_at DESC LIMIT $2', [connectorId, limit]);
  return rows;
}

async function activeRun(db: Queryable, connectorId: string): Promise<SyncRunRow | null> {
  const { rows } = await db.query<SyncRunRow>(`SELECT * FROM hub.sync_runs WHERE connector_id = $1 AND status IN ('queued', 'running')`, [connectorId]);
  return rows[0] ?? null;
}

/**
 * Close a 'running' run nobody executes any more (its worker's lock is gone). Returns true when it did.
 * `holder` may be a connection that already holds the lock (the worker about to start the next run).
 */
export async function closeIfStale(pool: Pool, run: SyncRunRow, holder?: PoolClient): Promise<boolean> {
  if (run.status !== 'running') return false;
  let stale: boolean;
  if (holder) stale = true;
  else {
    const client = await pool.connect();
    try {
      stale = await tryLockConnector(client, run.connector_id);
      if (stale) await unlockConnector(client, run.connector_id);
    } finally {
      client.release();
    }
  }
  if (!stale) return false;
  await pool.query(
    `UPDATE hub.sync_runs SET status = 'failed', finished_at = now(),
            error = jsonb_build_object('code', 'TL_ERR_INTERNAL', 'message', 'the worker executing this run stopped (it will be resumed from the last committed batch by the next run)')
      WHERE id = $1 AND status = 'running'`, [run.id]);
  return true;
}

/**
 * A new queued run of the connector, or the active one when there is one (at most one per connector).
 * `created` tells which.
 */
export async function enqueueRun(pool: Pool, connectorId: string, mode: SyncMode, trigger: string, holder?: PoolClient): Promise<{ run: SyncRunRow; created: boolean }> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const { rows } = await pool.query<SyncRunRow>(
      `INSERT INTO hub.sync_runs (connector_id, mode, trigger, status) VALUES ($1, $2, $3, 'queued')
       ON CONFLICT (connector_id) WHERE status IN ('queued', 'running') DO NOTHING RETURNING *`, [connectorId, mode, trigger]);
    if (rows[0]) return { run: rows[0], created: true };
    const active = await activeRun(pool, connectorId);
    if (!active) continue; // finished in between: try again
    if (await closeIfStale(pool, active, holder)) continue;
    return { run: active, created: false };
  }
  throw new HubError('TL_ERR_CONFLICT', `Could not queue a run of connector ${connectorId}`);
}

/**
 * Marks an attempt of a run as running. `restartCounts` (a full refresh) sets the counts back to zero: a full
 * refresh attempt reads everything again and swaps in only at its end, so after a retried attempt the run's
 * counts are those of the attempt that completed, not the reads of a failed one added to them. An incremental
 * attempt keeps them: its counts were committed with its batches and the retry continues from them.
 */
export async function markRunning(db: Queryable, runId: string, options: { restartCounts?: boolean } = {}): Promise<void> {
  await db.query(
    `UPDATE hub.sync_runs SET status = 'running', started_at = COALESCE(started_at, now()), error = NULL
       ${options.restartCounts ? ', records_read = 0, records_written = 0, records_unchanged = 0, records_quarantined = 0, records_deleted = 0' : ''}
     WHERE id = $1`, [runId]);
}

export interface RunCounts {
  read?: number;
  written?: number;
  unchanged?: number;
  quarantined?: number;
  deleted?: number;
}

/** Add to a run's counts (in the batch's transaction, so the counts are exactly what committed). */
export async function addCounts(db: Queryable, runId: string, c: RunCounts, progress?: Record<string, unknown>): Promise<void> {
  await db.query(
    `UPDATE hub.sync_runs SET records_read = records_read + $2, records_written = records_written + $3,
            records_unchanged = records_unchanged + $4, records_quarantined = records_quarantined + $5,
            records_deleted = records_deleted + $6, progress = progress || $7::jsonb WHERE id = $1`,
    [runId, c.read ?? 0, c.written ?? 0, c.unchanged ?? 0, c.quarantined ?? 0, c.deleted ?? 0, JSON.stringify({ ...(progress ?? {}), updatedAt: new Date().toISOString() })]);
}

export async function finishRun(db: Queryable, runId: string, status: 'succeeded' | 'cancelled', schemaChanges: unknown[], note?: string): Promise<void> {
  await db.query(
    `UPDATE hub.sync_runs SET status = $2, finished_at = now(), schema_changes = schema_changes || $3::jsonb,
            progress = progress || jsonb_build_object('phase', 'done'), error = $4::jsonb WHERE id = $1`,
    [runId, status, JSON.stringify(schemaChanges), note ? JSON.stringify({ code: 'TL_ERR_CANCELLED', message: note }) : null]);
}

/** Record a failure. `final` false: a transient error that will be retried (the run goes back to queued). */
export async function failRun(db: Queryable, runId: string, err: unknown, final: boolean, schemaChanges: unknown[] = []): Promise<void> {
  const e = toHubError(err);
  await db.query(
    `UPDATE hub.sync_runs SET status = $2, finished_at = CASE WHEN $2 = 'failed' THEN now() END, error = $3::jsonb,
            schema_changes = schema_changes || $4::jsonb WHERE id = $1`,
    [runId, final ? 'failed' : 'queued', JSON.stringify({ code: e.code, message: e.message, category: e.category, ...(final ? {} : { retrying: true }) }), JSON.stringify(schemaChanges)]);
}
