import type { Queryable } from './db';
import type { SecretBox } from './secrets';

/**
 * Key rotation for the secrets stored in the database: re-seal every envelope that is not under the current
 * SECRET_KEY. Procedure: set the new SECRET_KEY, move the old one to SECRET_KEYS_OLD, restart, run
 * `npm run secrets -- rotate` (idempotent, safe while the hub runs), then drop the old key from SECRET_KEYS_OLD.
 *
 * Each stored secret is bound to its row by the envelope's associated data (the `context`), so the table below
 * must name the same context as the code that writes the row.
 */
export interface StoredSecret {
  table: string;
  column: string;
  context: (id: string) => string;
}

export const STORED_SECRETS: readonly StoredSecret[] = [
  { table: 'hub.connectors', column: 'secrets', context: (id) => `hub.connectors/${id}` }, // sync/connector-store.ts
  { table: 'hub.webhooks', column: 'secret', context: (id) => `hub.webhooks:${id}` },       // events/webhooks/webhook-store.ts
];

export interface RotationReport {
  table: string;
  total: number;
  reencrypted: number;
  alreadyCurrent: number;
  /** Rows whose envelope cannot be opened with any configured key, or changed meanwhile: left as they are. */
  failed: { id: string; reason: string }[];
}

export async function reencryptStoredSecrets(db: Queryable, box: SecretBox, tables: readonly StoredSecret[] = STORED_SECRETS): Promise<RotationReport[]> {
  const reports: RotationReport[] = [];
  for (const t of tables) {
    const report: RotationReport = { table: t.table, total: 0, reencrypted: 0, alreadyCurrent: 0, failed: [] };
    const { rows } = await db.query<{ id: string; value: unknown }>(`SELECT id::text AS id, ${t.column} AS value FROM ${t.table} WHERE ${t.column} IS NOT NULL ORDER BY id`);
    for (const row of rows) {
      report.total += 1;
      if (!box.needsReencryption(row.value)) {
        report.alreadyCurrent += 1;
        continue;
      }
      let sealed;
      try {
        sealed = box.reencrypt(row.value, t.context(row.id));
      } catch (err) {
        report.failed.push({ id: row.id, reason: (err as Error).message });
        continue;
      }
      // Only if the row still holds the envelope we read (a concurrent update wins and is already current).
      const { rowCount } = await db.query(
        `UPDATE ${t.table} SET ${t.column} = $2::jsonb WHERE id::text = $1 AND ${t.column} = $3::jsonb`,
        [row.id, JSON.stringify(sealed), JSON.stringify(row.value)]);
      if (rowCount) report.reencrypted += 1;
      else report.failed.push({ id: row.id, reason: 'changed during rotation; run again' });
    }
    reports.push(report);
  }
  return reports;
}
