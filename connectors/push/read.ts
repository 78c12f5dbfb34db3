import type { ConnectorContext, ReadMessage, ReadOptions } from '../contract';
import { validateAgainstSpec } from '../config-validation';
import { configError, systemError, transientError } from '../errors';
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

export function dbError(err: unknown): Error {
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

