import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Pool, PoolClient } from '../platform/db';
import { HubError, isHubError } from '../platform/errors';
import type { Logger } from '../platform/logger';
import { getConnectorKind } from '../connectors/registry';
import type { ConnectorKind, ReadMessage, StreamConfig } from '../connectors/contract';
import { compileEventProjection, compileStream, rowHash, type CompiledStream, type EventProjector, type Mapping } from './mapping';
import { copyRows, rowCopyTail, softDeleteMissing, stagesEvent, writeRows, type MappedRow, type StreamWriteContext } from './load/batch-writer';
import { readStreamState, writeStreamState, type StreamState } from './load/connector-state';
import { copyLine } from './load/copy-text';
import { hubLinker, type Linker } from './load/linker';
import { quarantine, type QuarantineEntry } from './load/quarantine-writer';
import { loadTarget, quoteIdent } from './load/targets';
import { addCounts, failRun, finishRun, markRunning, tryLockConnector, unlockConnector, type SyncMode } from './runs';
import { connectorSettings, type ConnectorRecord } from './connector-store';
import { DEFAULT_BATCH_ROWS } from './batch-size';

/**
 * Executes one sync run of one connector: for each selected stream, read from the connector, map and validate
 * each record, and load.
 *
 * INCREMENTAL: batches of `batchSize` records; each batch — rows, links, events, outbox, quarantine, the
 * stream's cursor (the last state the connector emitted before the batch's last record) and the run's
 * counts — commits in ONE transaction. A crash loses at most the batch in flight; the next run re-reads from
 * the committed cursor and the hash-guarded merge makes the re-read harmless.
 *
 * FULL_REFRESH: every mapped record is copied into a shadow table; only when the read has completed, one
 * transaction merges the shadow into the live table, soft-deletes the rows the source no longer has, writes
 * outbox, quarantine and cursor, and drops the shadow. A refresh that fails before that leaves the live data
 * as it was.
 */
export interface RunOptions {
  pool: Pool;
  runId: string;
  connectorId: string;
  mode: SyncMode;
  log: Logger;
  /** Stop between batches (graceful shutdown): the committed batches stay, the run ends 'cancelled'. */
  signal?: AbortSignal;
  /** Records per batch (one transaction each): default DEFAULT_BATCH_ROWS. */
  batchSize?: number;
  /** null: load without linking (benchmark baseline). Default: the hub's linker. */
  linker?: Linker | null;
  /** Resolve a kind (tests may register their own). */
  kindOf?: (kind: string) => ConnectorKind;
}

export interface RunResult {
  status: 'succeeded' | 'cancelled';
  read: number;
  written: number;
  unchanged: number;
  quarantined: number;
  deleted: number;
  schemaChanges: SchemaChange[];
}

export interface SchemaChange {
  stream: string;
  column: string;
  change: 'new_column';
  noticedAt: string;
}

class Cancelled extends Error {}

export interface StreamRun {
  ctx: StreamWriteContext;
  compiled: CompiledStream;
  projector: EventProjector | null;
  stream: StreamConfig;
  state: StreamState | null;
  known: Set<string> | null;
  /** Encode each row's staging line while mapping (the stream loads without linking). */
  encodeAhead: boolean;
  stagesEvent: boolean;
}

/** The values of a row whose staging line is encoded (MappedRow.copyTail): not needed any more. */
const ENCODED: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;

/** Map one read message: a row for the loader, or a quarantine entry with every reason. */
export function mapMessage(run: StreamRun, msg: Extract<ReadMessage, { type: 'record' }>, changes: SchemaChange[]): { row?: MappedRow; bad?: QuarantineEntry } {
  const data = msg.data;
  if (run.known) {
    for (const col in data) {
      if (!run.known.has(col)) {
        run.known.add(col);
        changes.push({ stream: run.stream.name, column: col, change: 'new_column', noticedAt: new Date().toISOString() });
      }
    }
  } else run.known = new Set([...Object.keys(data), ...run.compiled.sourceColumns]);
  if (msg.error) {
    const r = run.compiled.map(data);
    return { bad: { recordKey: r.key, payload: { ...data, ...(msg.error.raw !== undefined ? { _raw: msg.error.raw } : {}), ...(msg.meta ? { _meta: msg.meta } : {}) }, errors: [{ field: msg.error.field ?? '_record', reason: msg.error.reason }] } };
  }
  const r = run.compiled.map(data);
  if (!r.ok) return { bad: { recordKey: r.key, payload: msg.meta ? { ...data, _meta: msg.meta } : data, errors: r.errors } };
  let event;
  if (run.projector) {
    const p = run.projector(r.values);
    if (p.errors) return { bad: { recordKey: r.key, payload: data, errors: p.errors } };
    event = p.event;
  }
  const row: MappedRow = { key: r.key, hash: rowHash(run.compiled.columns, r.values), sourceUpdatedAt: r.sourceUpdatedAt, values: r.values };
  if (event) row.event = event;
  // Without linking nothing changes the mapped values any more: the row's staging line is encoded now, while
  // the batch before is in the database, instead of inside this batch's transaction.
  // The batch then keeps only the line (and the event, whose presence decides the event's id): the mapped
  // values die young instead of being held — and promoted to the old generation — until the batch commits.
  if (run.encodeAhead) {
    row.copyTail = rowCopyTail(row, run.ctx.columns, run.stagesEvent);
    row.values = ENCODED;
  }
  return { row };
}

/**
 * A batch's transaction. JIT off inside it: the batch's statements (sync's and linking's) touch thousands of
 * rows through index probes, and JIT compilation (triggered by the planner's cost estimates, not by the work)
 * cost 0.3–0.4 s per statement measured, several times the statement itself.
 */
async function inTransaction<T>(client: PoolClient, fn: () => Promise<T>): Promise<T> {
  await client.query('BEGIN; SET LOCAL jit = off');
  try {
    const result = await fn();
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

export async function prepareStream(client: PoolClient, record: ConnectorRecord, stream: StreamConfig, linker: Linker | null,
  besidePool?: Pool): Promise<StreamRun> {
  const mapping = record.mapping as Mapping;
  const sm = mapping.streams[stream.name];
  if (!sm) throw new HubError('TL_ERR_CONNECTOR_CONFIG', `mapping/streams/${stream.name}: no mapping for the stream`);
  const target = await loadTarget(client, sm.target, record.department);
  let compiled: CompiledStream;
  try {
    compiled = compileStream(mapping, stream.name, target.columnTypes, stream.primaryKey, target.requiredColumns, target.notNullColumns);
  } catch (err) {
    throw new HubError('TL_ERR_CONNECTOR_CONFIG', `Mapping does not fit ${sm.target}: ${(err as Error).message}`, { field: `mapping/streams/${stream.name}` });
  }
  const projector = sm.event ? compileEventProjection(mapping, sm.event) : null;
  const state = await readStreamState(client, record.id, stream.name);
  const ctx: StreamWriteContext = {
    connectorId: record.id, department: record.department, target, mapping: sm, columns: compiled.columns, linker, ...(besidePool ? { besidePool } : {}),
  };
  return {
    ctx, compiled, projector, stream, state,
    known: state?.columns ? new Set([...state.columns, ...compiled.sourceColumns]) : null,
    encodeAhead: !linker, stagesEvent: stagesEvent(ctx),
  };
}

export async function executeRun(options: RunOptions): Promise<RunResult> {
  const { pool, runId, connectorId, mode, log, signal } = options;
  const batchSize = options.batchSize ?? DEFAULT_BATCH_ROWS;
  const linker = options.linker === undefined ? hubLinker : options.linker;
  const result: RunResult = { status: 'succeeded', read: 0, written: 0, unchanged: 0, quarantined: 0, deleted: 0, schemaChanges: [] };
  const client = await pool.connect();
  let locked = false;
  try {
    locked = await tryLockConnector(client, connectorId);
    if (!locked) throw new HubError('TL_ERR_CONFLICT', `Another run of connector ${connectorId} is in progress`);
    await markRunning(client, runId, { restartCounts: mode === 'FULL_REFRESH' });
    const { record, config } = await connectorSettings(client, connectorId);
    const kind = (options.kindOf ?? getConnectorKind)(record.kind);
    for (const stream of record.streams) {
      const run = await prepareStream(client, record, stream, linker, pool);
      const read = kind.read(config, {
        stream, mode, state: mode === 'FULL_REFRESH' ? null : run.state?.cursor ?? null, log,
        ...(signal ? { signal } : {}), context: { connectorId, pool },
      });
      if (mode === 'FULL_REFRESH') await fullRefresh(client, run, read, runId, batchSize, result, log, signal);
      else await incremental(client, run, read, runId, batchSize, result, signal);
    }
    await finishRun(client, runId, 'succeeded', result.schemaChanges);
  } catch (err) {
    if (err instanceof Cancelled || (signal?.aborted && !isHubError(err))) {
      result.status = 'cancelled';
      await finishRun(pool, runId, 'cancelled', result.schemaChanges, 'stopped by shutdown; committed batches stay, the next run resumes from the committed cursor').catch(() => undefined);
      return result;
    }
    throw Object.assign(err as object, { schemaChanges: result.schemaChanges });
  } finally {
    if (locked) await unlockConnector(client, connectorId).catch(() => undefined);
    client.release();
  }
  if (result.schemaChanges.length) log.warn({ connectorId, schemaChanges: result.schemaChanges }, 'new source columns noticed');
  return result;
}

/** One incremental batch as it is committed: mapped rows, quarantine entries, the cursor state it covers. */
export interface PendingBatch {
  rows: MappedRow[];
  bad: QuarantineEntry[];
  count: number;
  state: unknown;
  stateChanged: boolean;
  columns: string[];
}

/**
 * Commits one incremental batch in ONE transaction: rows, links, events, parties, outbox (writeRows),
 * quarantine, the stream's cursor and the run's counts. Exported so the benchmark times exactly these
 * statements (the write path alone, fed rows mapped beforehand).
 */
export async function commitBatch(client: PoolClient, run: StreamRun, runId: string, batch: PendingBatch): Promise<{ read: number; written: number; unchanged: number; quarantined: number }> {
  return inTransaction(client, async () => {
    const w = await writeRows(client, run.ctx, batch.rows);
    await quarantine(client, { connectorId: run.ctx.connectorId, runId, department: run.ctx.department, stream: run.stream.name }, batch.bad);
    if (batch.stateChanged) {
      await writeStreamState(client, run.ctx.connectorId, run.stream.name, { cursor: batch.state, columns: batch.columns });
    }
    const counts = { read: batch.count, written: w.written, unchanged: w.unchanged, quarantined: batch.bad.length };
    await addCounts(client, runId, counts, { stream: run.stream.name, phase: 'loading' });
    return counts;
  });
}

async function incremental(client: PoolClient, run: StreamRun, read: AsyncIterable<ReadMessage>, runId: string, batchSize: number, result: RunResult, signal?: AbortSignal): Promise<void> {
  let rows: MappedRow[] = [];
  let bad: QuarantineEntry[] = [];
  let count = 0;
  let state: unknown = undefined;
  let stateChanged = false;
  const changes: SchemaChange[] = [];
  // A batch is written while the next one is read and mapped (the source and the hub are different
  // connections): at most one batch in flight, committed strictly in order, so the cursor never runs ahead.
  let inFlight: Promise<void> | null = null;
  let failure: unknown = null;
  const write = async (batch: PendingBatch) => {
    const c = await commitBatch(client, run, runId, batch);
    result.read += c.read;
    result.written += c.written;
    result.unchanged += c.unchanged;
    result.quarantined += c.quarantined;
  };
  const flush = async () => {
    if (inFlight) await inFlight;
    if (failure) throw failure;
    if (signal?.aborted) throw new Cancelled();
    if (!count && !stateChanged) return;
    const batch = { rows, bad, count, state, stateChanged, columns: [...(run.known ?? [])] };
    rows = [];
    bad = [];
    count = 0;
    stateChanged = false;
    inFlight = write(batch).catch((err) => { failure = err; }).finally(() => { inFlight = null; });
  };
  for await (const msg of read) {
    if (msg.type === 'state') {
      state = msg.state;
      stateChanged = true;
      continue;
    }
    if (msg.type === 'log') continue;
    count++;
    const m = mapMessage(run, msg, changes);
    if (m.row) rows.push(m.row);
    else if (m.bad) bad.push(m.bad);
    if (count >= batchSize) await flush();
    // Records arrive through promise jobs only (a page is read at once), so mapping a whole batch would never
    // let the event loop turn: the batch in flight would wait for the mapping to end before its next
    // statement goes out (its reply sits unread in the socket). Every few hundred records the loop turns once,
    // so the database works on the batch in flight while this one is mapped.
    else if (inFlight && (count & 255) === 0) await yieldToLoop();
  }
  // A new column also needs saving when nothing else changed.
  if (changes.length && !stateChanged && run.state) { state = run.state.cursor; stateChanged = true; }
  await flush();
  if (inFlight) await inFlight;
  if (failure) throw failure;
  result.schemaChanges.push(...changes);
}

async function fullRefresh(client: PoolClient, run: StreamRun, read: AsyncIterable<ReadMessage>, runId: string, batchSize: number, result: RunResult, log: Logger, signal?: AbortSignal): Promise<void> {
  const shadow = `hub.${quoteIdent(`sync_shadow_${run.ctx.connectorId.replace(/-/g, '')}_${run.stream.name.replace(/[^a-z0-9_]/gi, '_').slice(0, 20)}`)}`;
  await client.query(`DROP TABLE IF EXISTS ${shadow}`);
  await client.query(`CREATE UNLOGGED TABLE ${shadow} (seq bigserial PRIMARY KEY, record_key text, row_hash text, source_updated_at timestamptz,
    vals jsonb, event jsonb, errors jsonb, payload jsonb)`);
  const changes: SchemaChange[] = [];
  run.encodeAhead = false; // the shadow keeps mapped values as JSON; the swap encodes its staging lines itself
  try {
    let lines: string[] = [];
    let state: unknown = undefined;
    let readCount = 0;
    let quarantined = 0;
    const copy = async () => {
      if (!lines.length) return;
      await copyRows(client, shadow, ['record_key', 'row_hash', 'source_updated_at', 'vals', 'event', 'errors', 'payload'], lines);
      await addCounts(client, runId, { read: lines.length }, { stream: run.stream.name, phase: 'reading' });
      lines = [];
      if (signal?.aborted) throw new Cancelled();
    };
    for await (const msg of read) {
      if (msg.type === 'state') { state = msg.state; continue; }
      if (msg.type === 'log') continue;
      readCount++;
      const m = mapMessage(run, msg, changes);
      if (m.row) lines.push(copyLine([m.row.key, m.row.hash, m.row.sourceUpdatedAt, m.row.values, m.row.event ?? null, null, null]));
      else if (m.bad) { quarantined++; lines.push(copyLine([m.bad.recordKey, null, null, null, null, m.bad.errors, m.bad.payload])); }
      if (lines.length >= batchSize) await copy();
    }
    await copy();
    result.read += readCount;

    // The swap: one transaction merges the complete shadow into the live table and removes what is gone.
    log.info({ connectorId: run.ctx.connectorId, stream: run.stream.name, rows: readCount }, 'full refresh read complete; swapping in');
    await addCounts(client, runId, {}, { stream: run.stream.name, phase: 'swapping' });
    const counts = await inTransaction(client, async () => {
      let written = 0;
      let unchanged = 0;
      let lastSeq = 0;
      for (;;) {
        const { rows } = await client.query<{ seq: number; record_key: string | null; row_hash: string | null; source_updated_at: Date | null; vals: Record<string, unknown> | null; event: MappedRow['event'] | null; errors: QuarantineEntry['errors'] | null; payload: Record<string, unknown> | null }>(
          `SELECT * FROM ${shadow} WHERE seq > $1 ORDER BY seq LIMIT $2`, [lastSeq, batchSize]);
        if (!rows.length) break;
        lastSeq = rows[rows.length - 1]!.seq;
        const good: MappedRow[] = [];
        const bad: QuarantineEntry[] = [];
        for (const r of rows) {
          if (r.errors) bad.push({ recordKey: r.record_key, payload: r.payload ?? {}, errors: r.errors });
          else good.push({ key: r.record_key!, hash: r.row_hash!, sourceUpdatedAt: r.source_updated_at ? r.source_updated_at.toISOString() : null, values: r.vals ?? {}, ...(r.event ? { event: r.event } : {}) });
        }
        const w = await writeRows(client, run.ctx, good);
        written += w.written;
        unchanged += w.unchanged;
        await quarantine(client, { connectorId: run.ctx.connectorId, runId, department: run.ctx.department, stream: run.stream.name }, bad);
      }
      await client.query(`CREATE INDEX ON ${shadow} (record_key)`);
      const deleted = await softDeleteMissing(client, run.ctx, shadow);
      await writeStreamState(client, run.ctx.connectorId, run.stream.name, { cursor: state ?? null, columns: [...(run.known ?? [])] });
      const c = { written, unchanged, quarantined, deleted };
      await addCounts(client, runId, c, { stream: run.stream.name, phase: 'swapped' });
      await client.query(`DROP TABLE ${shadow}`);
      return c;
    });
    result.written += counts.written;
    result.unchanged += counts.unchanged;
    result.quarantined += counts.quarantined;
    result.deleted += counts.deleted;
    result.schemaChanges.push(...changes);
  } catch (err) {
    await client.query(`DROP TABLE IF EXISTS ${shadow}`).catch(() => undefined);
    throw err;
  }
}
