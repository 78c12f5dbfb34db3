import type { ConnectorContext, StreamInfo } from '../contract';
import { validateAgainstSpec } from '../config-validation';
import { resolveContext } from '../runtime';
import { dbError } from './read';
import { pushSpec, type PushConfig } from './spec';

/** Streams as configured; fields declared, or taken from the latest batch's records. */
export async function discoverPush(raw: Record<string, unknown>, context?: ConnectorContext): Promise<StreamInfo[]> {
  const config = validateAgainstSpec<PushConfig>(pushSpec, raw);
  const ctx = resolveContext(context);
  const out: StreamInfo[] = [];
  for (const s of config.streams) {
    let columns = s.columns ?? [];
    if (!s.columns && ctx.pool && ctx.connectorId) {
      const { rows } = await ctx.pool.query<{ keys: string[] | null }>(
        `SELECT (SELECT array_agg(DISTINCT k) FROM jsonb_array_elements(records) e, jsonb_object_keys(CASE WHEN jsonb_typeof(e) = 'object' THEN e ELSE '{}' END) k) AS keys
           FROM hub.push_batches WHERE connector_id = $1 AND stream = $2 ORDER BY id DESC LIMIT 1`, [ctx.connectorId, s.name],
      ).catch((err) => { throw dbError(err); });
      columns = rows[0]?.keys ?? [];
    }
    out.push({
      name: s.name,
      columns: columns.map((name) => ({ name, type: 'json', nullable: true })),
      primaryKey: s.primaryKey,
      cursorCandidates: s.cursorCandidates ?? columns.filter((c) => /updat|modif|_at$|time/i.test(c)),
    });
  }
  return out;
}
