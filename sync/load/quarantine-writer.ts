import type { PoolClient } from '../../platform/db';
import type { FieldError } from '../mapping';

/** A record that failed reading, mapping or validation, with every reason. */
export interface QuarantineEntry {
  recordKey: string | null;
  payload: Record<string, unknown>;
  errors: FieldError[];
}

/**
 * Quarantine records (in the batch's transaction). A record whose key already waits in quarantine (open) has
 * that entry brought up to date (latest payload and reasons) instead of a second one; a record without a key
 * is not added twice with the same payload. So a batch read again after a crash or inside the look-back
 * window leaves quarantine as one run would. Returns the number of new entries.
 */
export async function quarantine(client: PoolClient, scope: { connectorId: string; runId: string | null; department: string; stream: string }, entries: QuarantineEntry[]): Promise<number> {
  if (!entries.length) return 0;
  const { rowCount } = await client.query(
    `WITH x AS (SELECT * FROM jsonb_to_recordset($5::jsonb) AS x(record_key text, payload jsonb, errors jsonb)),
     upd AS (
       UPDATE hub.quarantine q SET payload = x.payload, errors = x.errors, run_id = $2
         FROM x WHERE q.connector_id = $1 AND q.stream = $4 AND q.status = 'open' AND q.record_key = x.record_key
       RETURNING q.record_key)
     INSERT INTO hub.quarantine (connector_id, run_id, department, stream, record_key, payload, errors)
     SELECT $1, $2, $3, $4, x.record_key, x.payload, x.errors FROM x
      WHERE NOT EXISTS (SELECT 1 FROM upd WHERE upd.record_key = x.record_key)
        AND NOT EXISTS (SELECT 1 FROM hub.quarantine q WHERE q.connector_id = $1 AND q.stream = $4 AND q.status = 'open'
                          AND q.record_key IS NULL AND x.record_key IS NULL AND q.payload = x.payload)`,
    [scope.connectorId, scope.runId, scope.department, scope.stream,
      JSON.stringify(entries.map((e) => ({ record_key: e.recordKey, payload: e.payload, errors: e.errors })))]);
  return rowCount ?? 0;
}
