import type { CheckResult, ConnectorContext, ReadMessage, ReadOptions, StreamInfo } from '../contract';
import { validateAgainstSpec } from '../config-validation';
import { checkFailure, configError, systemError, transientError } from '../errors';
import { resolveContext } from '../runtime';
import { pushSpec, type PushConfig, type PushStreamConfig } from './spec';
import { batchesAfter } from './store';

/** State of a push stream: the id of the last batch whose records were all emitted. */
export interface PushStreamState {
  lastBatchId: number;
}

const BATCHES_PER_QUERY = 20;

function hubSide(context: ConnectorContext | undefined): { pool: NonNullable<ConnectorContext['pool']>; connectorId: string } {
  const ctx = resolveContext(context);
  if (!ctx.pool) throw systemError('the push kind reads batches from the hub database: pass context.pool or call setConnectorRuntime({pool})');
  if (!ctx.connectorId) throw systemError('the push kind needs context.connectorId (the connector whose batches to read)');
  return { pool: ctx.pool, connectorId: ctx.connectorId };
}

function streamOf(config: PushConfig, name: string): PushStreamConfig {
  const s = config.streams.find((x) => x.name === name);
  if (!s) throw configError(`push connector has no stream "${name}" (configured: ${config.streams.map((x) => x.name).join(', ')})`, { field: 'streams', stream: name });
  return s;
}

function dbError(err: unknown): Error {
  const code = (err as { code?: string }).code;
  if (code === '42P01') return systemError('hub.push_batches is missing: run the migrations', undefined, err);
  return transientError(`reading push batches failed: ${(err as Error).message}`, undefined, err);
}

/** Pending batches in id order; a state checkpoint after each batch. A full refresh re-reads every kept batch. */
export async function* readPush(raw: Record<string, unknown>, options: ReadOptions): AsyncGenerator<ReadMessage> {
  const config = validateAgainstSpec<PushConfig>(pushSpec, raw);
  const stream = streamOf(config, options.stream.name);
  const { pool, connectorId } = hubSide(options.context);
  const saved = options.state as PushStreamState | null;
  if (saved != null && typeof saved?.lastBatchId !== 'number') throw configError(`stream "${stream.name}": saved state is not a push state`, { stream: stream.name });
  let after = options.mode === 'INCREMENTAL' && saved ? saved.lastBatchId : 0;
  for (;;) {
    options.signal?.throwIfAborted();
    const batches = await batchesAfter(pool, connectorId, stream.name, after, BATCHES_PER_QUERY).catch((err) => { throw dbError(err); });
    for (const batch of batches) {
      for (const [i, item] of batch.records.entries()) {
        const meta = { batchId: batch.id, index: i, receivedAt: batch.received_at.toISOString() };
        if (!item || typeof item !== 'object' || Array.isArray(item)) {
          yield { type: 'record', stream: stream.name, data: {}, meta, error: { reason: `record ${i} of batch ${batch.id} is not a JSON object`, raw: JSON.stringify(item) } };
        } else {
          yield { type: 'record', stream: stream.name, data: item as Record<string, unknown>, meta };
        }
      }
      after = batch.id;
      yield { type: 'state', stream: stream.name, state: { lastBatchId: batch.id } satisfies PushStreamState };
    }
    if (batches.length < BATCHES_PER_QUERY) return;
  }
}

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
