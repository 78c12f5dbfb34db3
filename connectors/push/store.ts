import type { Pool, Queryable } from '../../platform/db';
import { withTransaction } from '../../platform/db';

/** The durable side of the push kind: `hub.push_batches` (migration 0250). */
export interface StoredBatch {
  batchId: number;
  records: number;
  duplicate: boolean;
  /** Same idempotency key, different body: the sender reused a key. */
  conflict?: boolean;
}

export async function storeBatch(pool: Pool, batch: { connectorId: string; stream: string; idempotencyKey: string; bodySha256: string; records: unknown[] }): Promise<StoredBatch> {
  return withTransaction(pool, async (client) => {
    // Serialise the inserts of one connector so its batch ids commit in id order (see the migration).
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('tonglan:push:' || $1))`, [batch.connectorId]);
    const existing = await client.query<{ id: number; body_sha256: string; record_count: number }>(
      `SELECT id, body_sha256, record_count FROM hub.push_batches WHERE connector_id = $1 AND stream = $2 AND idempotency_key = $3`,
      [batch.connectorId, batch.stream, batch.idempotencyKey]);
    const prior = existing.rows[0];
    if (prior) return { batchId: Number(prior.id), records: prior.record_count, duplicate: true, conflict: prior.body_sha256 !== batch.bodySha256 };
    const { rows } = await client.query<{ id: number }>(
      `INSERT INTO hub.push_batches (connector_id, stream, idempotency_key, body_sha256, record_count, records)
       VALUES ($1, $2, $3, $4, $5, $6::jsonb) RETURNING id`,
      [batch.connectorId, batch.stream, batch.idempotencyKey, batch.bodySha256, batch.records.length, JSON.stringify(batch.records)]);
    return { batchId: Number(rows[0]!.id), records: batch.records.length, duplicate: false };
  });
}

export async function batchesAfter(db: Queryable, connectorId: string, stream: string, afterId: number, limit: number): Promise<Array<{ id: number; records: unknown[]; received_at: Date }>> {
  const { rows } = await db.query(
    `SELECT id, records, received_at FROM hub.push_batches WHERE connector_id = $1 AND stream = $2 AND id > $3 ORDER BY id LIMIT $4`,
    [connectorId, stream, afterId, limit]);
  return rows.map((r: { id: string | number; records: unknown[]; received_at: Date }) => ({ ...r, id: Number(r.id) }));
}

/**
 * Delete a stream's batches up to and including `throughBatchId` — call it only after the state that covers
 * them is committed. (A full refresh of a push stream re-reads the batches still kept.)
 */
export async function prunePushBatches(db: Queryable, options: { connectorId: string; stream: string; throughBatchId: number }): Promise<number> {
  const { rowCount } = await db.query(`DELETE FROM hub.push_batches WHERE connector_id = $1 AND stream = $2 AND id <= $3`,
    [options.connectorId, options.stream, options.throughBatchId]);
  return rowCount ?? 0;
}
