import { randomUUID } from 'node:crypto';
import type { Pool } from '../../platform/db';
import { withTransaction } from '../../platform/db';

/**
 * Test and benchmark helpers: commit what the sync pipeline writes into hub.outbox (one row per changed
 * entity, in one transaction as a sync batch would), and wait for a condition.
 */
export interface OutboxInput {
  entityType?: 'Person' | 'Place' | 'Event';
  entityId?: string;
  op?: 'CREATE' | 'UPDATE' | 'DELETE';
  department?: string | null;
  gridCode?: string | null;
  changedFields?: string[];
  data?: Record<string, unknown>;
}

/** Returns the entity ids in row order. */
export async function commitOutbox(pool: Pool, rows: OutboxInput[]): Promise<string[]> {
  return withTransaction(pool, async (client) => {
    const ids: string[] = [];
    for (const row of rows) {
      const entityId = row.entityId ?? randomUUID();
      ids.push(entityId);
      await client.query(
        `INSERT INTO hub.outbox (entity_type, entity_id, op, department, grid_code, changed_fields, data)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [row.entityType ?? 'Event', entityId, row.op ?? 'CREATE', row.department === undefined ? 'POLICE' : row.department,
          row.gridCode === undefined ? '510104001001003' : row.gridCode, row.changedFields ?? [], JSON.stringify(row.data ?? {})]);
    }
    return ids;
  });
}

/** Resolve once `predicate` holds, polling every 20 ms; reject after `timeoutMs` naming `what`. */
export async function waitFor(predicate: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
