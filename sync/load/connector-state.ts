import type { Queryable } from '../../platform/db';

/**
 * Per-stream state in hub.connector_state: the connector's own cursor (opaque to the platform, e.g.
 * `{cursor, key}` of the SQL kinds' compound cursor) and the source columns seen so far (to notice new ones).
 * Written in the transaction of the batch it covers.
 */
export interface StreamState {
  cursor: unknown;
  columns?: string[];
}

export async function readStreamState(db: Queryable, connectorId: string, stream: string): Promise<StreamState | null> {
  const { rows } = await db.query<{ state: StreamState }>('SELECT state FROM hub.connector_state WHERE connector_id = $1 AND stream = $2', [connectorId, stream]);
  return rows[0]?.state ?? null;
}

export async function writeStreamState(db: Queryable, connectorId: string, stream: string, state: StreamState): Promise<void> {
  await db.query(
    `INSERT INTO hub.connector_state (connector_id, stream, state, updated_at) VALUES ($1, $2, $3::jsonb, now())
     ON CONFLICT (connector_id, stream) DO UPDATE SET state = excluded.state, updated_at = now()`,
    [connectorId, stream, JSON.stringify(state)]);
}
