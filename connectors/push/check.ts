import type { CheckResult, ConnectorContext } from '../contract';
import { validateAgainstSpec } from '../config-validation';
import { checkFailure } from '../errors';
import { resolveContext } from '../runtime';
import { dbError } from './read';
import { pushSpec, type PushConfig } from './spec';

/** Settings valid, and (with the hub pool) the batch table reachable. Never throws. */
export async function checkPush(raw: Record<string, unknown>, context?: ConnectorContext): Promise<CheckResult> {
  try {
    const config = validateAgainstSpec<PushConfig>(pushSpec, raw);
    const ctx = resolveContext(context);
    if (!ctx.pool) return { ok: true, message: `push receiver settings valid; streams ${config.streams.map((s) => s.name).join(', ')}` };
    const { rows } = await ctx.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM hub.push_batches WHERE connector_id = $1`, [ctx.connectorId ?? '00000000-0000-0000-0000-000000000000'],
    ).catch((err) => { throw dbError(err); });
    return { ok: true, message: `push receiver ready for streams ${config.streams.map((s) => s.name).join(', ')}; ${rows[0]?.n ?? 0} batches kept` };
  } catch (err) {
    return checkFailure(err);
  }
}

