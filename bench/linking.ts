import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { generate } from '../demo/generate';
import { databaseBaseUrl, printTable } from '../linking/eval';
import { runEvaluation } from '../linking/eval/run';
import { normaliseThread } from '../linking/normalise-thread';
import { personLinkingStats } from '../linking/person-linking';
import pg from 'pg';
import { DEFAULT_BATCH_ROWS } from '../sync/batch-size';
import { ROOT } from './lib/process';

/**
 * `npm run bench:linking -- [--data DIR] [--persons N] [--batch N] [--warmup-persons N] [--no-thread] [--runs N] [--cpu-profile FILE] [--heap-profile FILE]`
 * (--no-thread: LINKING_THREAD=off; --runs N: the measured run N times in the same warm process, each into a fresh
 * database, and the median run reported (the lower middle one of an even N), with every run's records/s as `runs`; --heap-profile: what the main thread allocated over the measured run, collected or
 * not, sampled every 32 kB, in the `.heapprofile` format of DevTools; --cpu-profile: a CPU profile of the main thread over the measured run only, in
 * the `.cpuprofile` format Chrome's DevTools and `node --cpu-prof` use)
 *
 * Linking throughput and quality on a large data set: generates N persons' department records (default
 * 60,000 persons, about 127,000 person mentions) unless --data names a generated directory, links them all in
 * sync-sized batches into a fresh database, and ends with one JSON line: records/s, F1, precision, recall,
 * grid accuracy, the ratio of the throughput to the 20,000 records/s target, the bound this machine's cores put on
 * the same work (`cpuBound`: records/s with every core busy at the run's CPU seconds per record), the kernel's part
 * (`kernel`: system CPU seconds and minor page faults of the process and of the database backends; a page fault costs
 * about 10 µs on this project's virtual machines, docs/linking.md round 18), and the measured
 * run's `window` on the monotonic clock (seconds), to cut a system-wide `perf record -k CLOCK_MONOTONIC` of the run
 * down to it (`perf report --time START,END`: the process's threads and the database's backends, docs/performance.md).
 *
 * Measured in a warm process, as sync's worker links batch after batch for as long as it runs (and as bench:sync
 * measures after a warm-up run): first another city's data set (--warmup-persons, default 20,000 persons, generated
 * with another seed, linked into a database of its own and dropped) is linked, so that the measured run is not
 * charged with compiling the code it runs. `--warmup-persons 0` measures a cold process; the JSON line gives the
 * warm-up's own figure (a cold process on the smaller set) as `warmup`.
 */
const TARGET_RECORDS_PER_SECOND = 20_000;
const DEFAULT_WARMUP_PERSONS = 20_000;

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  let data: string | undefined;
  let persons = 60_000;
  let batch = DEFAULT_BATCH_ROWS;
  let profile = false;
  let prepareAhead = true;
  let warmupPersons = DEFAULT_WARMUP_PERSONS;
  let cpuProfile: string | undefined;
  let heapProfile: string | undefined;
  let runs = 1;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = () => { const x = argv[++i]; if (x === undefined) throw new Error(`${a} needs a value`); return x; };
    if (a === '--data') data = v();
    else if (a === '--persons') persons = Number(v());
    else if (a === '--batch') batch = Number(v());
    else if (a === '--profile') profile = true;
    else if (a === '--no-prepare') prepareAhead = false;
    else if (a === '--no-thread') process.env.LINKING_THREAD = 'off';
    else if (a === '--warmup-persons') warmupPersons = Number(v());
    else if (a === '--cpu-profile') cpuProfile = v();
    else if (a === '--heap-profile') heapProfile = v();
    else if (a === '--runs') runs = Number(v());
    else throw new Error(`unknown argument ${a} (use [--data DIR] [--persons N] [--batch N] [--warmup-persons N] [--profile] [--no-prepare] [--no-thread] [--runs N] [--cpu-profile FILE] [--heap-profile FILE])`);
  }
  if (!Number.isInteger(persons) || persons < 1) throw new Error('--persons must be a positive integer');
  if (!Number.isInteger(batch) || batch < 1) throw new Error('--batch must be a positive integer');
  if (!Number.isInteger(warmupPersons) || warmupPersons < 0) throw new Error('--warmup-persons must be 0 or a positive integer');
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a positive integer');
  if (runs > 1 && (cpuProfile || heapProfile)) throw new Error('--cpu-profile and --heap-profile profile one run: use them without --runs');
  let temp: string | undefined;
  if (!data) {
    temp = await mkdtemp(path.join(tmpdir(), 'tonglan-bench-linking-'));
    data = temp;
    process.stderr.write(`generating ${persons} persons into ${data}\n`);
    await generate({ out: data, persons });
  }
  const warmup = warmupPersons ? await warmUp(data, warmupPersons, batch) : null;
  const statements = profile ? profileStatements() : undefined;
  try {
    // Each run into a fresh database, in this (warm) process; the median run is reported.
    const measured: Measured[] = [];
    for (let i = 0; i < runs; i++) {
      personLinkingStats.batches = 0; personLinkingStats.mentions = 0; personLinkingStats.seconds = 0; personLinkingStats.phases = {};
      normaliseThread.stats.mentions = 0; normaliseThread.stats.messages = 0;
      const r = await runEvaluation({ dataDir: data, databaseUrl: databaseBaseUrl(), batchSize: batch, prepareAhead,
        around: cpuProfile ? profileCpu(cpuProfile) : heapProfile ? profileHeap(heapProfile) : undefined, log: (l) => process.stderr.write(`${l}\n`) });
      measured.push({ r, personSeconds: personLinkingStats.seconds, personMentions: personLinkingStats.mentions,
        phases: { ...personLinkingStats.phases }, linkingThread: normaliseThread.stats.mentions > 0 });
      if (runs > 1) process.stderr.write(`run ${i + 1} of ${runs}: ${Math.round(r.recordsPerSecond)} records/s\n`);
    }
    const byRate = [...measured].sort((a, b) => a.r.recordsPerSecond - b.r.recordsPerSecond);
    const { r, personSeconds, personMentions, phases, linkingThread } = byRate[(byRate.length - 1) >> 1]!;
    printTable(`linking benchmark (${data}, batches of ${batch}${runs > 1 ? `, the median of ${runs} runs` : ''})`, r, (s) => process.stdout.write(`${s}\n`));
    const round = (x: number) => Math.round(x * 10000) / 10000;
    // Person linking (linkPersons: features, look-ups, scoring, writes). Since linkBatch overlaps it with place
    // linking on the batch's connection, its wall time includes waits behind place statements: not comparable with
    // "person linking alone" of runs before round 9 (docs/linking.md). The end-to-end figure is the one to compare.
    const personRecordsPerSecond = personSeconds ? personMentions / personSeconds : 0;
    process.stdout.write(`  CPU over the linking                ${r.cpuSeconds.process.toFixed(2)} s this process, ${r.cpuSeconds.database?.toFixed(2) ?? '?'} s database backends\n`);
    const bound = cpuBound(r.records, r.seconds, r.cpuSeconds);
    if (bound) {
      process.stdout.write(`  the machine's cores, busy with it   ${(bound.coreUtilisation * 100).toFixed(0)} % of ${bound.cores} over the run; all of them busy: ${Math.round(bound.recordsPerSecond)} records/s at this work per record\n`);
    }
    process.stdout.write(`  person linking (overlapped)         ${personSeconds.toFixed(2)} s, ${Math.round(personRecordsPerSecond)} /s\n`);
    for (const [phase, sec] of Object.entries(phases)) process.stdout.write(`    ${phase.padEnd(32)} ${sec.toFixed(2)} s\n`);
    const load = loadavg().map((x) => Math.round(x * 100) / 100);
    const server = await serverSettings();
    process.stdout.write(`${JSON.stringify({
      benchmark: 'linking', records: r.records, persons: r.truePersons, batch, prepareAhead, seconds: round(r.seconds),
      recordsPerSecond: Math.round(r.recordsPerSecond), personLinkingSeconds: round(personSeconds),
      personRecordsPerSecond: Math.round(personRecordsPerSecond), f1: round(r.f1), precision: round(r.precision), recall: round(r.recall),
      gridAccuracy: round(r.gridAccuracy), communityAccuracy: round(r.communityAccuracy),
      targetRecordsPerSecond: TARGET_RECORDS_PER_SECOND, throughputRatio: round(r.recordsPerSecond / TARGET_RECORDS_PER_SECOND),
      personThroughputRatio: round(personRecordsPerSecond / TARGET_RECORDS_PER_SECOND),
      cpuSeconds: { process: round(r.cpuSeconds.process), database: r.cpuSeconds.database === null ? null : round(r.cpuSeconds.database) },
      kernel: {
        process: { ...r.kernel.process, systemSeconds: round(r.kernel.process.systemSeconds) },
        database: r.kernel.database && { ...r.kernel.database, systemSeconds: round(r.kernel.database.systemSeconds) },
      }, loadAverage: load,
      cpuBound: bound ? { cores: bound.cores, coreUtilisation: round(bound.coreUtilisation), recordsPerSecond: Math.round(bound.recordsPerSecond),
        throughputRatio: round(bound.recordsPerSecond / TARGET_RECORDS_PER_SECOND) } : null,
      linkingThread, database: server, warmup,
      ...(runs > 1 ? { runs: measured.map((m) => Math.round(m.r.recordsPerSecond)) } : {}),
      window: { start: Math.round(r.window.start * 1e6) / 1e6, end: Math.round(r.window.end * 1e6) / 1e6 },
    })}\n`);
    if (statements) {
      const top = [...statements.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25);
      process.stderr.write('statement time (client-observed, whole run incl. set-up), top 25:\n');
      for (const [sql, t] of top) process.stderr.write(`  ${t.ms.toFixed(0).padStart(8)} ms ${String(t.n).padStart(6)}x  ${sql}\n`);
    }
  } finally {
    if (temp) await rm(temp, { recursive: true, force: true });
  }
}

/** One measured run and the person-linking statistics gathered over it. */
interface Measured {
  r: Awaited<ReturnType<typeof runEvaluation>>;
  personSeconds: number;
  personMentions: number;
  phases: Record<string, number>;
  linkingThread: boolean;
}

/**
 * The physical limit of this run on this machine: its CPU seconds (the process's and the database backends') over
 * the machine's cores is the shortest the same work could take with every core busy. Measured in the same run, so the
 * host's phases (the same work takes 5 or 10 CPU seconds within an hour here) move it with the figure. The share of
 * the cores the run used leaves the rest to idle time, other processes and, on a virtual machine, time the host did
 * not run the guest (a system-wide perf record of the window tells them apart: docs/linking.md, round 14).
 * On a virtual machine whose page faults trap to the host, /proc's accounting misses much of the fault handling
 * (time with interrupts held off), and the bound comes out about a tenth too high (docs/linking.md, round 18).
 * Null when the database's CPU could not be read (a server on another machine).
 */
function cpuBound(records: number, seconds: number, cpu: { process: number; database: number | null }):
  { cores: number; coreUtilisation: number; recordsPerSecond: number } | null {
  if (cpu.database === null || seconds <= 0) return null;
  const cores = availableParallelism();
  const busy = (cpu.process + cpu.database) / cores;
  return { cores, coreUtilisation: busy / seconds, recordsPerSecond: records / busy };
}

/**
 * The warm-up: another city (the data set's seed + 1) of `persons` persons, generated into a temporary folder and
 * linked as the measured run links (its own database, dropped afterwards). Returns its figures: those of a cold
 * process on that set.
 */
async function warmUp(data: string, persons: number, batch: number): Promise<{ persons: number; records: number; recordsPerSecond: number; f1: number }> {
  const manifest = JSON.parse(await readFile(path.join(data, 'manifest.json'), 'utf8')) as { seed: number };
  const dir = await mkdtemp(path.join(tmpdir(), 'tonglan-bench-warmup-'));
  try {
    process.stderr.write(`warm-up: generating ${persons} persons (seed ${manifest.seed + 1}) into ${dir}\n`);
    // In a child process: the generator's garbage stays out of this process's heap (the measured run's GC works
    // through what is left in the old generation).
    execFileSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'demo', 'generate.ts'),
      '--out', dir, '--persons', String(persons), '--seed', String(manifest.seed + 1)], { stdio: ['ignore', 'ignore', 'inherit'] });
    const r = await runEvaluation({ dataDir: dir, databaseUrl: databaseBaseUrl(), batchSize: batch, log: (l) => process.stderr.write(`warm-up: ${l}\n`) });
    await checkpoint();
    process.stdout.write(`warm-up (cold process, ${r.records} records of another city): ${Math.round(r.recordsPerSecond)} records/s, F1 ${r.f1.toFixed(4)}\n`);
    return { persons, records: r.records, recordsPerSecond: Math.round(r.recordsPerSecond), f1: Math.round(r.f1 * 10000) / 10000 };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * A checkpoint after the warm-up, so that the measured run does not pay for writing out the warm-up's pages (a
 * checkpoint the warm-up's WAL would bring on during it). Needs the pg_checkpoint role or superuser; skipped without.
 */
async function checkpoint(): Promise<void> {
  await onServer((client) => client.query('CHECKPOINT'))
    .catch((err: unknown) => { process.stderr.write(`warm-up: no checkpoint (${(err as Error).message})\n`); });
}

/**
 * The database server's memory settings, printed with the figures: with PostgreSQL's default 128 MB of shared
 * buffers the run's tables outgrow them, and the backends write out evicted pages themselves (docs/performance.md).
 */
async function serverSettings(): Promise<Record<string, string>> {
  const r = await onServer((client) => client.query<{ name: string; setting: string }>(
    `SELECT name, current_setting(name) AS setting FROM pg_settings WHERE name IN ('shared_buffers', 'wal_buffers', 'max_wal_size')`));
  return Object.fromEntries(r.rows.map((x) => [x.name, x.setting]));
}

/** One statement's worth of work on the benchmark's server, on a connection of its own. */
async function onServer<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseBaseUrl() });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * A profiler of V8's on the main thread (the batch's thread) over the measured run only: started just before it and
 * stopped just after, so neither set-up nor the warm-up is in it (`node --cpu-prof` would profile the whole
 * process). `begin` sends what starts it, `end` what stops it and returns the profile, written to `file`.
 */
function profileRun(file: string, what: string, begin: (post: Post) => Promise<void>, end: (post: Post) => Promise<object>):
  { start(): Promise<void>; stop(): Promise<void> } {
  const session = new Session();
  const post: Post = <T = unknown>(method: string, params?: object) => new Promise<T>((resolve, reject) => {
    session.post(method, params ?? {}, (err, result) => (err ? reject(err) : resolve(result as T)));
  });
  return {
    async start() {
      session.connect();
      await begin(post);
    },
    async stop() {
      const profile = await end(post);
      session.disconnect();
      await writeFile(file, JSON.stringify(profile));
      process.stderr.write(`${what} of the measured run written to ${file}\n`);
    },
  };
}

type Post = <T = unknown>(method: string, params?: object) => Promise<T>;

/** --cpu-profile FILE: V8's sampling CPU profiler, every 500 µs (the `.cpuprofile` format of DevTools). */
function profileCpu(file: string): { start(): Promise<void>; stop(): Promise<void> } {
  return profileRun(file, 'CPU profile', async (post) => {
    await post('Profiler.enable');
    await post('Profiler.setSamplingInterval', { interval: 500 });
    await post('Profiler.start');
  }, async (post) => (await post<{ profile: object }>('Profiler.stop')).profile);
}

/**
 * --heap-profile FILE: V8's sampling heap profiler, every 32 kB allocated, objects the garbage collector has taken
 * since included (what a run allocates is what brings on the scavenges, docs/linking.md round 17).
 */
function profileHeap(file: string): { start(): Promise<void>; stop(): Promise<void> } {
  return profileRun(file, 'heap profile', async (post) => {
    await post('HeapProfiler.enable');
    await post('HeapProfiler.startSampling', { samplingInterval: 32 * 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  }, async (post) => (await post<{ profile: object }>('HeapProfiler.stopSampling')).profile);
}

/**
 * --profile: every statement's client-observed time (send, bind, execute, receive), summed per statement text
 * (first 110 characters, whitespace collapsed). Together with `node --cpu-prof` it shows where a batch goes.
 */
function profileStatements(): Map<string, { ms: number; n: number }> {
  const stats = new Map<string, { ms: number; n: number }>();
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  proto.query = function (this: unknown, ...args: unknown[]) {
    const first = args[0];
    const text = typeof first === 'string' ? first : (first as { text?: string })?.text;
    const t0 = process.hrtime.bigint();
    const result = original.apply(this, args);
    if (!text) return result;
    const key = text.replace(/\s+/g, ' ').trim().slice(0, 110);
    const done = () => {
      const s = stats.get(key) ?? { ms: 0, n: 0 };
      s.ms += Number(process.hrtime.bigint() - t0) / 1e6;
      s.n++;
      stats.set(key, s);
    };
    if (result instanceof Promise) result.then(done, done);
    // COPY … FROM STDIN (pg-copy-streams): a writable stream, done when it finishes.
    else if (result && typeof (result as { once?: unknown }).once === 'function') {
      const stream = result as { once: (e: string, f: () => void) => void };
      let ended = false;
      const end = () => { if (!ended) { ended = true; done(); } };
      stream.once('finish', end);
      stream.once('error', end);
    }
    return result;
  };
  return stats;
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:linking failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
