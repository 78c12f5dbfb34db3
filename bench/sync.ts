import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import inspector from 'node:inspector';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { createPool, dropDatabase, ensureDatabase, withDatabase, type Pool } from '../platform/db';
import { migrate } from '../platform/migrate';
import { partLogger } from '../platform/logger';
import { idCheckDigit } from '../domain/id-number';
import { copyRows, type MappedRow } from '../sync/load/batch-writer';
import type { QuarantineEntry } from '../sync/load/quarantine-writer';
import { setConnectorRuntime } from '../connectors/registry';
import { connectorSettings, createConnector } from '../sync/connector-store';
import { getConnectorKind } from '../connectors/registry';
import { commitBatch, executeRun, mapMessage, prepareStream, type PendingBatch, type SchemaChange } from '../sync/run-sync';
import { enqueueRun } from '../sync/runs';
import { policeConnectorInput } from '../sync/__tests__/fixtures';
import { printJsonLine, printTable } from './lib/report';
import { median, ratio, round, spread } from './lib/stats';
import { DEFAULT_BATCH_ROWS } from '../sync/batch-size';

/**
 * `npm run bench:sync` — the sync pipeline end to end against the raw speed of the same database, in one run.
 *
 * A PostgreSQL source (`jq`, a police incident table as the demo police system writes it: YYYYMMDDHHmmss
 * times, department status codes, parties as JSON with an ID number each) of BENCH_ROWS rows (default
 * 1,000,000) is synced by the real pipeline — postgres connector, mapping and validation, COPY into staging,
 * hash-guarded merge, event projection, outbox, cursor — with the hub's linking (persons of every party,
 * places of every address) and without it. Beside it, on the same hub database: the raw `COPY` rate into an
 * unlogged table and the raw `INSERT … SELECT … ON CONFLICT DO UPDATE` rate into a table shaped like the
 * target. And the floor of the write path in the same run: the per-batch transaction the pipeline commits
 * (key pre-read, staging COPY, the merge + core.events + outbox statement, quarantine, cursor, counts), fed
 * batches read and mapped beforehand and written one after another with nothing else running — the rate this
 * design gets from this database on this machine; the table and the JSON line give the pipeline's ratio to it
 * and to the 50,000 rows/s target. Each figure is the median of BENCH_RUNS (default 3) runs after one warm-up;
 * the hub's tables are emptied between runs so every run loads the same rows from scratch.
 *
 * Options (environment): BENCH_ROWS, BENCH_RUNS, BENCH_BATCH (rows per batch, default sync's, DEFAULT_BATCH_ROWS: 10,000),
 * BENCH_LINKING=0 (skip the linked runs), BENCH_WARMUP=0 (no warm-up run), BENCH_DATABASE_URL (server, default
 * the local one). Profiling: BENCH_PROFILE=1 logs every statement of the hub database on the server
 * (log_min_duration_statement = 0, read back from BENCH_PG_LOG) and prints the server time per statement shape;
 * with BENCH_EXPLAIN=<ms> also auto_explain plans (actual times, trigger times) of statements slower than that;
 * BENCH_CPU_PROFILE=<file> writes a V8 CPU profile of the first pipeline run, BENCH_FLOOR_CPU_PROFILE=<file> one
 * of the write-path measure. Each pipeline run prints its wall time and the Node process's CPU time (all threads).
 */
const PG = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const BATCH = Number(process.env.BENCH_BATCH ?? DEFAULT_BATCH_ROWS);
const LINKING = process.env.BENCH_LINKING !== '0';
/** BENCH_WARMUP=0: no warm-up run (a single measured run of 1,000,000 rows is long enough to warm up by itself). */
const WARMUP = process.env.BENCH_WARMUP !== '0';
/** BENCH_PROFILE=1: log every statement of the hub database (server side) and sum the durations per statement. */
const PROFILE = process.env.BENCH_PROFILE === '1';
/** BENCH_CPU_PROFILE=<file>: a V8 CPU profile of the first pipeline run (only the run: not the set-up). */
const CPU_PROFILE = process.env.BENCH_CPU_PROFILE;
let profiled = false;
/** BENCH_FLOOR_CPU_PROFILE=<file>: a V8 CPU profile of the write-path measure (its mapping included). */
const FLOOR_CPU_PROFILE = process.env.BENCH_FLOOR_CPU_PROFILE;
const PG_LOG = process.env.BENCH_PG_LOG ?? '/var/log/postgresql/postgresql-15-main.log';
const log = partLogger('bench-sync');
log.level = 'warn';

function idNumber(i: number): string {
  const first17 = `510104${1950 + (i % 60)}${String(1 + (i % 12)).padStart(2, '0')}${String(1 + (i % 28)).padStart(2, '0')}${String(i % 1000).padStart(3, '0')}`;
  return first17 + idCheckDigit(first17);
}

const STREETS = ['洗面桥街', '浆洗街', '高升桥路', '武侯祠大街', '一环路南四段', '科华北路', '玉林北路', '芳草街'];

/** Source rows as COPY text lines: about one person in three appears in more than one incident. */
function* sourceLines(n: number): Generator<string> {
  for (let i = 0; i < n; i++) {
    const person = i % Math.max(1, Math.floor(n * 0.66));
    const party = JSON.stringify([{ xm: `张${'伟芳娜敏静丽强磊军洋'[person % 10]}${person % 997}`, sfzh: idNumber(person), js: String(1 + (i % 3)) }]);
    yield [
      `JJ${String(i).padStart(9, '0')}`,
      `2024${String(1 + (i % 12)).padStart(2, '0')}${String(1 + (i % 28)).padStart(2, '0')}${String(i % 24).padStart(2, '0')}3000`,
      ['盗窃', '诈骗', '纠纷'][i % 3],
      `第${i}号警情：居民报称电动车被盗，民警已到场处置`,
      `四川省成都市武侯区浆洗街街道${STREETS[i % STREETS.length]}${1 + (i % 300)}号`,
      ['10', '20', '30'][i % 3],
      party.replace(/\\/g, '\\\\'),
    ].join('\t') + '\n';
  }
}

async function makeSource(name: string): Promise<string> {
  const url = withDatabase(PG, name);
  await ensureDatabase(url);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`CREATE TABLE jq (jjdbh text PRIMARY KEY, bjsj text, ajlb text, jyaq text, fadz text, zt text, dsr jsonb, gxsj timestamptz NOT NULL DEFAULT now())`);
  const pool = { connect: async () => client } as unknown as Pool;
  void pool;
  await copyRows(client as unknown as pg.PoolClient, 'jq', ['jjdbh', 'bjsj', 'ajlb', 'jyaq', 'fadz', 'zt', 'dsr'], sourceLines(ROWS));
  // As every source system the hub reads keeps it (demo/README.md): the keyset cursor's index.
  await client.query('CREATE INDEX ON jq (gxsj, jjdbh)');
  await client.query('ANALYZE jq');
  await client.end();
  return url;
}

async function emptyHub(hub: Pool): Promise<void> {
  // The key tables (core.person_keys, core.person_open_keys) are named: they have no foreign key to core.persons
  // (derived data, migration 0312), so CASCADE does not reach them. Left full, every run's keys stayed behind and
  // each linked run wrote against the runs before it (person linking's writes 2.1, 4.1, 6.4 s over three runs of
  // 100,000 rows; with linking 9,013, 7,575, 6,531 rows/s). Emptied with their sentinel, they are rebuilt (empty)
  // by the first batch, and the process's caches of them start over (linking/key-generation.ts).
  await hub.query(`TRUNCATE police.incidents, police.incident_parties, core.event_participants, core.events, hub.outbox, hub.quarantine,
    hub.connector_state, core.person_records, core.persons, core.places, core.person_keys, core.person_open_keys CASCADE`);
  await hub.query(`DELETE FROM hub.sync_runs`);
  await hub.query('VACUUM ANALYZE');
}

/** The raw rates of the hub database: COPY into an unlogged table, then INSERT … ON CONFLICT DO UPDATE. */
async function rawRates(hub: Pool): Promise<{ copy: number; upsert: number }> {
  const client = await hub.connect();
  try {
    await client.query(`DROP TABLE IF EXISTS bench_stage, bench_target`);
    await client.query(`CREATE UNLOGGED TABLE bench_stage (id uuid, _record_key text, _row_hash text, incident_no text, summary text, address text,
      status text, reported_at timestamptz, parties jsonb)`);
    await client.query(`CREATE TABLE bench_target (LIKE police.incidents INCLUDING ALL)`);
    const lines = function* () {
      for (let i = 0; i < ROWS; i++) {
        yield `${crypto.randomUUID()}\tJJ${String(i).padStart(9, '0')}\th${i}\tJJ${i}\t第${i}号警情：居民报称电动车被盗\t四川省成都市武侯区浆洗街街道洗面桥街${i % 300}号\t已受理\t2024-01-05T00:30:00Z\t[{"name": "张伟", "role": "reporter"}]\n`;
      }
    };
    let t = performance.now();
    await copyRows(client, 'bench_stage', ['id', '_record_key', '_row_hash', 'incident_no', 'summary', 'address', 'status', 'reported_at', 'parties'], lines());
    const copy = ROWS / ((performance.now() - t) / 1000);
    t = performance.now();
    await client.query(`INSERT INTO bench_target AS t (id, _record_key, _row_hash, incident_no, summary, address, status, reported_at, parties, _connector_id)
      SELECT id, _record_key, _row_hash, incident_no, summary, address, status, reported_at, parties, '00000000-0000-0000-0000-000000000001' FROM bench_stage
      ON CONFLICT (_connector_id, _record_key) DO UPDATE SET _row_hash = excluded._row_hash, summary = excluded.summary, address = excluded.address,
        status = excluded.status, reported_at = excluded.reported_at, parties = excluded.parties
      WHERE t._row_hash IS DISTINCT FROM excluded._row_hash`);
    const upsert = ROWS / ((performance.now() - t) / 1000);
    await client.query(`DROP TABLE bench_stage, bench_target`);
    return { copy, upsert };
  } finally {
    client.release();
  }
}

async function pipelineRate(hub: Pool, sourceName: string, linking: boolean): Promise<{ rowsPerSecond: number; written: number }> {
  await emptyHub(hub);
  const base = policeConnectorInput({ name: sourceName } as never, {}, BATCH);
  const connector = await createConnector(hub, { ...base, name: `bench-${randomBytes(3).toString('hex')}` });
  const { run } = await enqueueRun(hub, connector.id, 'INCREMENTAL', 'bench');
  const logStart = PROFILE ? fs.statSync(PG_LOG).size : 0;
  const session = CPU_PROFILE && !profiled ? new inspector.Session() : null;
  if (session) {
    profiled = true;
    session.connect();
    await post(session, 'Profiler.enable');
    await post(session, 'Profiler.start');
  }
  const cpu = process.cpuUsage();
  const t = performance.now();
  const result = await executeRun({ pool: hub, runId: run.id, connectorId: connector.id, mode: 'INCREMENTAL', log, batchSize: BATCH, ...(linking ? {} : { linker: null }) });
  if (session) {
    const { profile } = await post(session, 'Profiler.stop') as { profile: unknown };
    fs.writeFileSync(CPU_PROFILE!, JSON.stringify(profile));
    session.disconnect();
  }
  const seconds = (performance.now() - t) / 1000;
  const used = process.cpuUsage(cpu);
  console.log(`  ${linking ? 'linked' : 'unlinked'} run: ${round(seconds, 2)} s wall, Node CPU ${round((used.user + used.system) / 1e6, 2)} s (${Math.round(((used.user + used.system) / 1e6 / seconds) * 100)}%; all threads)`);
  if (PROFILE) printStatementProfile(logStart, seconds);
  if (result.read !== ROWS || result.written !== ROWS) throw new Error(`pipeline read ${result.read} and wrote ${result.written} of ${ROWS} rows`);
  return { rowsPerSecond: ROWS / seconds, written: result.written };
}

/**
 * The floor of the write path: the same per-batch transaction the pipeline commits (`commitBatch`: key
 * pre-read, staging COPY, the one merge + core.events + Event outbox statement, quarantine, cursor, run counts),
 * fed batches that were read and mapped beforehand — the source read and the mapping are outside the timed
 * part, and nothing overlaps: each batch is written alone. Without linking. Its rate is what this design gets
 * from this database on this machine (plus the Node work inside writeRows: COPY encoding, ids, the pre-read's
 * result), so it bounds the pipeline without linking from above however fast the mapping becomes.
 */
async function writePathFloor(hub: Pool, sourceName: string): Promise<{ rowsPerSecond: number; nodeCpuShare: number }> {
  await emptyHub(hub);
  const base = policeConnectorInput({ name: sourceName } as never, {}, BATCH);
  const connector = await createConnector(hub, { ...base, name: `bench-floor-${randomBytes(3).toString('hex')}` });
  const { run } = await enqueueRun(hub, connector.id, 'INCREMENTAL', 'bench');
  const client = await hub.connect();
  let timed = 0;
  let cpuMicros = 0;
  let written = 0;
  try {
    const { record, config } = await connectorSettings(client, connector.id);
    const stream = record.streams[0]!;
    const sr = await prepareStream(client, record, stream, null);
    const read = getConnectorKind(record.kind).read(config, { stream, mode: 'INCREMENTAL', state: null, log, context: { connectorId: connector.id, pool: hub } });
    const changes: SchemaChange[] = [];
    const session = FLOOR_CPU_PROFILE ? new inspector.Session() : null;
    if (session) {
      session.connect();
      await post(session, 'Profiler.enable');
      await post(session, 'Profiler.start');
    }
    let batch: PendingBatch = { rows: [] as MappedRow[], bad: [] as QuarantineEntry[], count: 0, state: undefined, stateChanged: false, columns: [] };
    const flush = async () => {
      if (!batch.count) return;
      batch.columns = [...(sr.known ?? [])];
      const cpu = process.cpuUsage();
      const t = performance.now();
      const c = await commitBatch(client, sr, run.id, batch);
      timed += performance.now() - t;
      const used = process.cpuUsage(cpu);
      cpuMicros += used.user + used.system;
      written += c.written;
      batch = { rows: [], bad: [], count: 0, state: batch.state, stateChanged: false, columns: [] };
    };
    for await (const msg of read) {
      if (msg.type === 'state') { batch.state = msg.state; batch.stateChanged = true; continue; }
      if (msg.type === 'log') continue;
      batch.count++;
      const m = mapMessage(sr, msg, changes);
      if (m.row) batch.rows.push(m.row);
      else if (m.bad) batch.bad.push(m.bad);
      if (batch.count >= BATCH) await flush();
    }
    await flush();
    if (session) {
      const { profile } = await post(session, 'Profiler.stop') as { profile: unknown };
      fs.writeFileSync(FLOOR_CPU_PROFILE!, JSON.stringify(profile));
      session.disconnect();
    }
  } finally {
    client.release();
  }
  if (written !== ROWS) throw new Error(`write-path floor wrote ${written} of ${ROWS} rows`);
  const seconds = timed / 1000;
  console.log(`  write path alone: ${round(seconds, 2)} s timed, Node CPU inside it ${round(cpuMicros / 1e6, 2)} s (${Math.round((cpuMicros / 1e6 / seconds) * 100)}%; all threads)`);
  return { rowsPerSecond: ROWS / seconds, nodeCpuShare: cpuMicros / 1e6 / seconds };
}

function post(session: inspector.Session, method: string): Promise<unknown> {
  return new Promise((resolve, reject) => session.post(method, (err, result) => (err ? reject(err) : resolve(result))));
}

/** Server-side time per statement shape, from the PostgreSQL log written during the run (log_min_duration_statement = 0). */
function printStatementProfile(from: number, seconds: number): void {
  const fd = fs.openSync(PG_LOG, 'r');
  const size = fs.fstatSync(fd).size;
  const buf = Buffer.alloc(size - from);
  fs.readSync(fd, buf, 0, buf.length, from);
  fs.closeSync(fd);
  const sums = new Map<string, { ms: number; n: number }>();
  const re = /duration: ([\d.]+) ms\s+(?:statement|execute [^:]*|parse [^:]*|bind [^:]*):\s*([^\n]*)/g;
  for (const m of buf.toString('utf8').matchAll(re)) {
    const shape = m[2]!.replace(/\s+/g, ' ').slice(0, 90);
    const e = sums.get(shape) ?? { ms: 0, n: 0 };
    e.ms += Number(m[1]);
    e.n++;
    sums.set(shape, e);
  }
  const total = [...sums.values()].reduce((a, e) => a + e.ms, 0);
  console.log(`  server time ${round(total / 1000, 2)} s of ${round(seconds, 2)} s wall`);
  printTable([...sums.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 14)
    .map(([shape, e]) => ({ ms: Math.round(e.ms), n: e.n, 'ms/call': round(e.ms / e.n, 1), statement: shape })));
}

async function main(): Promise<void> {
  const tag = randomBytes(3).toString('hex');
  const sourceName = `tl_bench_sync_src_${tag}`;
  const hubUrl = withDatabase(PG, `tl_bench_sync_hub_${tag}`);
  console.log(`bench:sync — ${ROWS.toLocaleString()} rows, batches of ${BATCH}, ${RUNS} runs after a warm-up`);
  let t = performance.now();
  await makeSource(sourceName);
  console.log(`source written in ${round((performance.now() - t) / 1000, 1)} s`);
  await ensureDatabase(hubUrl);
  await migrate(hubUrl);
  if (PROFILE) {
    const admin = new pg.Client({ connectionString: hubUrl });
    await admin.connect();
    await admin.query(`ALTER DATABASE ${hubUrl.split('/').pop()} SET log_min_duration_statement = 0`);
    await admin.query(`ALTER DATABASE ${hubUrl.split('/').pop()} SET log_parameter_max_length = 0`);
    if (process.env.BENCH_EXPLAIN) {
      // Plans with actual times (and trigger times) of every statement slower than BENCH_EXPLAIN ms, in the server log.
      for (const [k, v] of [['session_preload_libraries', 'auto_explain'], ['auto_explain.log_min_duration', process.env.BENCH_EXPLAIN],
        ['auto_explain.log_analyze', 'on'], ['auto_explain.log_triggers', 'on'], ['auto_explain.log_buffers', 'on']]) {
        await admin.query(`ALTER DATABASE ${hubUrl.split('/').pop()} SET ${k} = '${v}'`);
      }
    }
    await admin.end();
  }
  const hub = createPool(hubUrl, { max: 4, applicationName: 'bench-sync' });
  setConnectorRuntime({ pool: hub });
  try {
    const series: Record<string, number[]> = { copy: [], upsert: [], writePathFloor: [], pipelineNoLinking: [], pipeline: [] };
    for (let run = WARMUP ? 0 : 1; run <= RUNS; run++) {
      const warm = run === 0;
      const raw = await rawRates(hub);
      const floor = await writePathFloor(hub, sourceName);
      const plain = await pipelineRate(hub, sourceName, false);
      const linked = LINKING ? await pipelineRate(hub, sourceName, true) : null;
      console.log(`${warm ? 'warm-up' : `run ${run}`} (load ${os.loadavg().map((l) => round(l, 2)).join(' ')}): COPY ${Math.round(raw.copy)} rows/s, upsert ${Math.round(raw.upsert)} rows/s, write path alone ${Math.round(floor.rowsPerSecond)} rows/s, pipeline without linking ${Math.round(plain.rowsPerSecond)} rows/s${linked ? `, with linking ${Math.round(linked.rowsPerSecond)} rows/s` : ''}`);
      if (warm) continue;
      series.copy!.push(raw.copy);
      series.upsert!.push(raw.upsert);
      series.writePathFloor!.push(floor.rowsPerSecond);
      series.pipelineNoLinking!.push(plain.rowsPerSecond);
      if (linked) series.pipeline!.push(linked.rowsPerSecond);
    }
    const m = Object.fromEntries(Object.entries(series).filter(([, v]) => v.length).map(([k, v]) => [k, Math.round(median(v))]));
    const TARGET = 50_000;
    printTable(Object.entries(series).filter(([, v]) => v.length).map(([k, v]) => ({
      measure: k, 'rows/s (median)': Math.round(median(v)), spread: `${round(spread(v) * 100, 1)}%`,
      'vs write path': k.startsWith('pipeline') ? ratio(median(v), m.writePathFloor!) : null,
      'vs 50,000 target': ratio(median(v), TARGET),
    })));
    const endToEnd = m.pipeline ?? m.pipelineNoLinking!;
    if (m.writePathFloor! < TARGET) console.log(`the write path alone (${m.writePathFloor!.toLocaleString('en-US')} rows/s) is below the ${TARGET.toLocaleString('en-US')} rows/s target: it cannot be met by this design on this machine`);
    printJsonLine('sync', {
      rows: ROWS, batch: BATCH, runs: RUNS, linking: LINKING,
      copyRowsPerSecond: m.copy, upsertRowsPerSecond: m.upsert, writePathFloorRowsPerSecond: m.writePathFloor,
      pipelineNoLinkingRowsPerSecond: m.pipelineNoLinking, pipelineRowsPerSecond: m.pipeline ?? null,
      endToEndVsCopy: ratio(endToEnd, m.copy!), endToEndVsUpsert: ratio(endToEnd, m.upsert!),
      noLinkingVsUpsert: ratio(m.pipelineNoLinking!, m.upsert!),
      noLinkingVsWritePathFloor: ratio(m.pipelineNoLinking!, m.writePathFloor!), endToEndVsWritePathFloor: ratio(endToEnd, m.writePathFloor!),
      writePathFloorVsTarget: ratio(m.writePathFloor!, TARGET), noLinkingVsTarget: ratio(m.pipelineNoLinking!, TARGET), endToEndVsTarget: ratio(endToEnd, TARGET),
      target: TARGET, meetsTarget: endToEnd >= TARGET, targetReachableByWritePath: m.writePathFloor! >= TARGET,
    });
  } finally {
    await hub.end();
    await dropDatabase(hubUrl).catch(() => undefined);
    await dropDatabase(withDatabase(PG, sourceName)).catch(() => undefined);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
