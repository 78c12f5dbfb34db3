import type { Pool, Queryable } from '../platform/db';
import { HubError } from '../platform/errors';
import { hubLinker, type Linker } from './load/linker';
import { writeRows } from './load/batch-writer';
import { connectorSettings } from './connector-store';
import { prepareStream } from './run-sync';
import { rowHash } from './mapping';
import { tryLockConnector, unlockConnector } from './runs';

/**
 * The quarantine: records that failed reading, mapping or validation, kept with their source payload and the
 * field and reason of every failure. An administrator lists them, corrects a payload, replays a record
 * (mapped, validated and loaded exactly like a synced one, in one transaction) or discards it.
 */
export interface QuarantineRow {
  id: number;
  connector_id: string;
  run_id: string | null;
  department: string;
  stream: string;
  record_key: string | null;
  payload: Record<string, unknown>;
  errors: { field: string; reason: string; value?: unknown }[];
  status: 'open' | 'replayed' | 'discarded';
  created_at: Date;
  resolved_at: Date | null;
  resolved_by: string | null;
}

export async function getQuarantined(db: Queryable, id: string | number): Promise<QuarantineRow | null> {
  if (!/^\d{1,18}$/.test(String(id))) return null;
  const { rows } = await db.query<QuarantineRow>('SELECT * FROM hub.quarantine WHERE id = $1', [id]);
  return rows[0] ?? null;
}

export async function listQuarantined(db: Queryable, connectorId: string, status: QuarantineRow['status'] = 'open', first = 50, afterId?: number): Promise<{ rows: QuarantineRow[]; total: number; hasNext: boolean }> {
  const limit = Math.max(1, Math.min(first, 500));
  const { rows } = await db.query<QuarantineRow>(
    `SELECT * FROM hub.quarantine WHERE connector_id = $1 AND status = $2 AND ($3::bigint IS NULL OR id < $3) ORDER BY id DESC LIMIT $4`,
    [connectorId, status, afterId ?? null, limit + 1]);
  const { rows: c } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM hub.quarantine WHERE connector_id = $1 AND status = $2', [connectorId, status]);
  return { rows: rows.slice(0, limit), total: c[0]!.n, hasNext: rows.length > limit };
}

function assertOpen(row: QuarantineRow | null, id: string | number): QuarantineRow {
  if (!row) throw new HubError('TL_ERR_NOT_FOUND', `No quarantined record ${id}`);
  if (row.status !== 'open') throw new HubError('TL_ERR_CONFLICT', `Quarantined record ${id} is ${row.status} already`);
  return row;
}

export async function correctQuarantined(db: Queryable, id: string | number, payload: unknown): Promise<QuarantineRow> {
  if (!payload || typeof payload !== 'object' || Array.isArray(payload)) throw new HubError('TL_ERR_BAD_USER_INPUT', 'payload: a JSON object of source columns', { field: 'payload' });
  assertOpen(await getQuarantined(db, id), id);
  const { rows } = await db.query<QuarantineRow>('UPDATE hub.quarantine SET payload = $2 WHERE id = $1 RETURNING *', [id, payload]);
  return rows[0]!;
}

export async function discardQuarantined(db: Queryable, id: string | number, actor: string, reason?: string | null): Promise<QuarantineRow> {
  assertOpen(await getQuarantined(db, id), id);
  const { rows } = await db.query<QuarantineRow>(
    `UPDATE hub.quarantine SET status = 'discarded', resolved_at = now(), resolved_by = $2,
            errors = CASE WHEN $3::text IS NULL THEN errors ELSE errors || jsonb_build_array(jsonb_build_object('field', '_discarded', 'reason', $3::text)) END
      WHERE id = $1 RETURNING *`, [id, actor, reason ?? null]);
  return rows[0]!;
}

/**
 * Map and validate the record again (its payload as corrected) and, when it passes, load it in one
 * transaction — rows, links, events, outbox — and mark it replayed. When it still fails, its errors are
 * updated and it stays open. The connector's run lock is taken, so a replay never interleaves with a run.
 */
export async function replayQuarantined(pool: Pool, id: string | number, actor: string, linker: Linker | null = hubLinker): Promise<QuarantineRow> {
  const row = assertOpen(await getQuarantined(pool, id), id);
  const { record } = await connectorSettings(pool, row.connector_id);
  const stream = record.streams.find((s) => s.name === row.stream);
  if (!stream) throw new HubError('TL_ERR_CONFLICT', `Connector "${record.name}" no longer reads stream "${row.stream}"`);
  const client = await pool.connect();
  let locked = false;
  try {
    locked = await tryLockConnector(client, record.id);
    if (!locked) throw new HubError('TL_ERR_CONFLICT', `A sync run of connector "${record.name}" is in progress; replay the record after it`);
    const run = await prepareStream(client, record, stream, linker);
    const { _meta, _raw, ...data } = row.payload;
    void _meta; void _raw;
    const mapped = run.compiled.map(data);
    let errors = mapped.ok ? [] : mapped.errors;
    let event;
    if (mapped.ok && run.projector) {
      const p = run.projector(mapped.values);
      if (p.errors) errors = p.errors;
      else event = p.event;
    }
    if (!mapped.ok || errors.length) {
      const { rows } = await client.query<QuarantineRow>('UPDATE hub.quarantine SET errors = $2::jsonb, record_key = COALESCE($3, record_key) WHERE id = $1 RETURNING *', [row.id, JSON.stringify(errors), mapped.key]);
      return rows[0]!;
    }
    await client.query('BEGIN');
    try {
      await writeRows(client, run.ctx, [{ key: mapped.key, hash: rowHash(run.compiled.columns, mapped.values), sourceUpdatedAt: mapped.sourceUpdatedAt, values: mapped.values, ...(event ? { event } : {}) }]);
      const { rows } = await client.query<QuarantineRow>(
        `UPDATE hub.quarantine SET status = 'replayed', resolved_at = now(), resolved_by = $2, record_key = $3 WHERE id = $1 RETURNING *`, [row.id, actor, mapped.key]);
      await client.query('COMMIT');
      return rows[0]!;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  } finally {
    if (locked) await unlockConnector(client, record.id).catch(() => undefined);
    client.release();
  }
}
