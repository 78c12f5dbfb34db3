import { randomBytes } from 'node:crypto';
import { deserialize, serialize } from 'node:v8';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { buildGeography } from '../../demo/geography';
import { existsSync, readFileSync } from 'node:fs';
import { loadGeographyIntoHub, loadRegisterIntoHub } from '../../demo/hub-grids';
import { readRegisterFile } from '../../demo/register';
import { createPool, dropDatabase, ensureDatabase, withDatabase, withTransaction, type Queryable } from '../../platform/db';
import { migrate } from '../../platform/migrate';
import { DEFAULT_BATCH_ROWS } from '../../sync/batch-size';
import { loadGazetteer } from '../gazetteer';
import { linkBatch, prepareMentions, startLinkingThread } from '../index';
import { normaliseThread } from '../normalise-thread';
import type { PersonMention, PlaceMention } from '../types';
import { pairwise, type PairwiseFigures } from './metrics';
import { readDemoSources, readTruth, type EvalMention } from './sources';

/**
 * One evaluation run: a fresh database (migrated, the demo city's grids and standard-address register loaded,
 * dropped afterwards), every
 * department record of a generated data set linked in sync-sized batches in the order departments sync, then
 * the final links compared with `truth.jsonl`.
 */
export interface EvalOptions {
  dataDir: string;
  /** Base PostgreSQL URL; the run makes and drops its own database on that server. */
  databaseUrl: string;
  /** Mentions per batch; default the sync pipeline's batch (DEFAULT_BATCH_ROWS), which links as it merges. */
  batchSize?: number;
  keepDatabase?: boolean;
  log?: (line: string) => void;
  /** Normalise the next batch while the current one is linked (prepareMentions, linking/index.ts). Default true. */
  prepareAhead?: boolean;
  /** Called just before the measured linking starts and just after it ends (bench:linking's --cpu-profile). */
  around?: { start(): Promise<void>; stop(): Promise<void> };
}

export interface EvalResult extends PairwiseFigures {
  records: number;
  persons: number;
  truePersons: number;
  seconds: number;
  /**
   * The linking's start and end on the machine's monotonic clock, in seconds (process.hrtime, CLOCK_MONOTONIC on
   * Linux): the `--time` window of a system-wide `perf record -k CLOCK_MONOTONIC` of the run (docs/performance.md).
   */
  window: { start: number; end: number };
  /** CPU seconds over the linking: this process, and the database backends of its pool (null when unreadable). */
  cpuSeconds: { process: number; database: number | null };
  /**
   * Kernel work over the linking, of this process (process.resourceUsage) and of the database backends (/proc, null
   * when unreadable): CPU seconds in the kernel and minor page faults. A page fault is a fresh page the kernel maps
   * and zeroes: on this project's virtual machines about 10 µs each, an eighth of the run's CPU (docs/linking.md
   * round 18).
   */
  kernel: {
    process: { systemSeconds: number; minorPageFaults: number; contextSwitches: number };
    database: { systemSeconds: number; minorPageFaults: number } | null;
  };
  recordsPerSecond: number;
  gridAccuracy: number;
  communityAccuracy: number;
  addresses: number;
  reviews: number;
  /** Share of linked persons (not merged away) whose residence place is set. */
  residenceSet: number;
  missingFromTruth: number;
  missingFromSources: number;
  /** Per noise kind: share of such records that ended with the person most of their true person's records did. */
  byNoise: Record<string, { records: number; correct: number }>;
  /** The same per source stream. */
  byStream: Record<string, { records: number; correct: number }>;
  methods: Record<string, number>;
  database?: string;
}

interface Batch { places: PlaceMention[]; persons: PersonMention[] }
interface PlannedBatch { places: PlaceMention[]; persons: EvalMention[] }

function batches(mentions: EvalMention[], scenes: PlaceMention[], size: number): PlannedBatch[] {
  const out: PlannedBatch[] = [];
  let scenesDone = false;
  let stream = '';
  let cur: PlannedBatch | undefined;
  for (const m of mentions) {
    if (m.person.sourceTable === 't_jqxx' && !scenesDone) {
      // The incident system's batches carry the scenes (with coordinates) before their persons.
      for (let i = 0; i < scenes.length; i += size) out.push({ places: scenes.slice(i, i + size), persons: [] });
      scenesDone = true;
      cur = undefined;
    }
    if (!cur || cur.persons.length >= size || m.person.sourceTable !== stream) {
      cur = { places: [], persons: [] };
      out.push(cur);
      stream = m.person.sourceTable;
    }
    cur.persons.push(m);
    if (m.place) cur.places.push(m.place);
  }
  if (!scenesDone) for (let i = 0; i < scenes.length; i += size) out.push({ places: scenes.slice(i, i + size), persons: [] });
  return out;
}

export async function runEvaluation(options: EvalOptions): Promise<EvalResult> {
  const log = options.log ?? (() => undefined);
  const manifest = JSON.parse(await readFile(path.join(options.dataDir, 'manifest.json'), 'utf8')) as { seed: number; cityCode: string };
  const url = withDatabase(options.databaseUrl, `tl_linkeval_${randomBytes(4).toString('hex')}`);
  await ensureDatabase(url);
  // Four connections: the batch's, two beside it (its places and its key tables: linkBatch's besidePool), and prepareMentions' check.
  // Idle connections are kept: the database CPU over the run is read from these four backends (backendStats), and
  // one closed after 30 idle seconds would take its CPU with it (a new one's is not counted).
  const pool = createPool(url, { max: 4, applicationName: 'linking-eval', idleTimeoutMillis: 0 });
  try {
    await migrate(url);
    const geo = await buildGeography({ seed: manifest.seed, cityCode: manifest.cityCode });
    await loadGeographyIntoHub(pool, geo);
    // The city's standard-address register is reference data loaded with the grids (as cli/bootstrap.ts does),
    // not department records: a data set without register/buildings.csv is linked without one.
    const registerFile = path.join(options.dataDir, 'register', 'buildings.csv');
    if (existsSync(registerFile)) {
      const register = await loadRegisterIntoHub(pool, await readRegisterFile(registerFile));
      log(`standard-address register: ${register.changed} buildings loaded, ${register.rejected.length} rejected${register.rejected.length ? ` (first: ${JSON.stringify(register.rejected[0])})` : ''}`);
    } else {
      log('no register/buildings.csv: linking without a standard-address register');
    }
    const source = await readDemoSources(options.dataDir);
    log(`read ${source.mentions.length} person mentions and ${source.scenes.length} incident scenes from ${source.files.length} files`);

    // The hub loads the division table once per process; so does the evaluation, before the clock starts.
    await loadGazetteer(pool);
    const thread = await startLinkingThread();
    log(thread ? 'linking thread ready' : `linking thread not used${normaliseThread.failure ? ` (${normaliseThread.failure.message})` : ''}`);
    // Every record is linked once, as a first sync of these sources links them: each is a department row the
    // batch inserts with a new id (sync/load/batch-writer.ts marks those), so it has no link to look up yet.
    for (const m of source.mentions) m.person.newRecord = true;
    // Each batch's place links as linkBatch returns them, read into a map after the clock stops: a map of every
    // place of the run, grown batch by batch, is the evaluation's work, not linking's (sync keeps none).
    // Each batch's list is serialised as it comes (v8.serialize: off the heap), as the truth below is.
    const placeLinks: Buffer[] = [];
    const planned = batches(source.mentions, source.scenes, options.batchSize ?? DEFAULT_BATCH_ROWS);
    // What is compared with the truth after the clock stops: a record's truth key, by its identity. Kept serialised
    // during the run: as objects (two million keys in a map at a million persons) they were a third of the heap's old
    // generation, which every full collection marked on the cores the run is short of; a sync worker holds none of it.
    const records = source.mentions.length;
    const truthStored = serialize({
      identities: source.mentions.map((m) => `${m.person.recordId}|${m.person.mentionKey}`),
      truthKeys: source.mentions.map((m) => m.truthKey),
    });
    // The batches as a sync worker meets them: made one at a time as the run goes (here from a serialised copy, each
    // during the batch two before it), not a whole city's mentions held as objects on the heap all along. Those (2.4 GB
    // at a million persons) were the evaluation's, not linking's, and every full collection of the heap marked them.
    const plan = planned.map((b) => serialize({ places: b.places, persons: b.persons.map((m) => m.person) }) as Buffer | null);
    planned.length = 0;
    source.mentions.length = 0;
    const batchAt = (i: number): Batch | undefined => {
      const stored = plan[i];
      if (!stored) return undefined;
      plan[i] = null;
      return deserialize(stored) as Batch;
    };
    // CPU time of this process and of the database backends serving it, over the linking alone: on a shared
    // machine wall-clock time swings with other work, CPU time much less.
    const clients = await Promise.all([pool.connect(), pool.connect(), pool.connect(), pool.connect()]);
    const backends = await backendPids(clients[0]!);
    for (const c of clients) c.release();
    await options.around?.start();
    const backends0 = backendStats(backends);
    const cpu0 = process.cpuUsage();
    const usage0 = process.resourceUsage();
    const started = process.hrtime.bigint();
    let b = batchAt(0);
    let next = batchAt(1);
    for (let i = 0; b; i++) {
      // The next batch is normalised while this one's statements run (a pipeline, as sync overlaps mapping with
      // writing): the same work, overlapped; it changes no link.
      const current = b;
      const ahead = next && options.prepareAhead !== false ? prepareMentions(pool, next.persons, next.places) : undefined;
      const linked = withTransaction(pool, async (client) => {
        // As the sync pipeline does: places and persons together, residences from the batch's places.
        const links = await linkBatch(client, current.places, current.persons, { besidePool: pool });
        placeLinks.push(serialize(links.places));
      });
      // The batch after next is made while this one's first statements run.
      const later = new Promise<Batch | undefined>((resolve) => setImmediate(() => resolve(batchAt(i + 2))));
      await linked;
      await ahead;
      b = next;
      next = await later;
    }
    const ended = process.hrtime.bigint();
    const seconds = Number(ended - started) / 1e9;
    const cpu = process.cpuUsage(cpu0);
    const usage1 = process.resourceUsage();
    const backends1 = backendStats(backends);
    await options.around?.stop();
    const uncounted = (await backendPids(pool)).filter((pid) => !backends.includes(pid)).length;
    if (uncounted) log(`database CPU: ${uncounted} backend(s) opened during the run are not counted`);
    const cpuSeconds = { process: (cpu.user + cpu.system) / 1e6, database: backendDelta(backends0, backends1, 'cpu') };
    const kernel = {
      process: {
        systemSeconds: (usage1.systemCPUTime - usage0.systemCPUTime) / 1e6,
        minorPageFaults: usage1.minorPageFault - usage0.minorPageFault,
        contextSwitches: usage1.voluntaryContextSwitches - usage0.voluntaryContextSwitches + usage1.involuntaryContextSwitches - usage0.involuntaryContextSwitches,
      },
      database: backends1.size ? { systemSeconds: backendDelta(backends0, backends1, 'system')!, minorPageFaults: backendDelta(backends0, backends1, 'faults')! } : null,
    };
    log(`linked in ${seconds.toFixed(2)} s (${plan.length} batches)`);
    const placeOf = new Map<string, string | null>();
    for (const stored of placeLinks) for (const p of deserialize(stored) as Array<{ ref: string; placeId: string | null }>) placeOf.set(p.ref, p.placeId);
    const { identities, truthKeys } = deserialize(truthStored) as { identities: string[]; truthKeys: string[] };
    const truthKeyOf = new Map(identities.map((id, i) => [id, truthKeys[i]!]));

    // Final state: merges and later grid propagation count, as a client of the hub would see them.
    const links = await pool.query<{ record_id: string; mention_key: string; person_id: string; method: string }>(
      `SELECT pr.record_id, pr.mention_key, coalesce(p.merged_into, p.id) AS person_id, pr.method
         FROM core.person_records pr JOIN core.persons p ON p.id = pr.person_id`);
    const predicted = new Map<string, string>();
    const methods: Record<string, number> = {};
    for (const l of links.rows) {
      const k = truthKeyOf.get(`${l.record_id}|${l.mention_key}`);
      if (k) predicted.set(k, l.person_id);
      methods[l.method] = (methods[l.method] ?? 0) + 1;
    }
    const grids = await pool.query<{ id: string; grid_code: string | null }>('SELECT id, grid_code FROM core.places');
    const gridOf = new Map(grids.rows.map((r) => [r.id, r.grid_code]));
    const reviews = Number((await pool.query('SELECT count(*) AS n FROM core.link_reviews')).rows[0].n);
    const residence = (await pool.query<{ set: number; n: number }>(
      'SELECT count(residence_place_id)::int AS set, count(*)::int AS n FROM core.persons WHERE merged_into IS NULL')).rows[0]!;

    const assignments: Array<[string, string]> = [];
    const seen = new Set<string>();
    let missingFromSources = 0;
    let truePersons = 0;
    let addresses = 0;
    let gridRight = 0;
    let communityRight = 0;
    const byNoise: EvalResult['byNoise'] = {};
    const byStream: EvalResult['byStream'] = {};
    for await (const person of readTruth(options.dataDir)) {
      if (!person.records.length) continue;
      truePersons++;
      const mine: Array<{ key: string; pred: string; noise: string[]; stream: string }> = [];
      for (const r of person.records) {
        const key = `${r.stream}|${r.key}|${r.mention ?? ''}`;
        seen.add(key);
        const pred = predicted.get(key);
        if (!pred) { missingFromSources++; assignments.push([`missing:${key}`, person.personId]); continue; }
        assignments.push([pred, person.personId]);
        mine.push({ key, pred, noise: r.noise, stream: r.stream });
        if (r.gridCode) {
          addresses++;
          const placeId = placeOf.get(key);
          const grid = placeId ? gridOf.get(placeId) : null;
          if (grid === r.gridCode) gridRight++;
          if (grid && r.gridCode.startsWith(grid.slice(0, 12)) && grid.length >= 12) communityRight++;
        }
      }
      const counts = new Map<string, number>();
      for (const m of mine) counts.set(m.pred, (counts.get(m.pred) ?? 0) + 1);
      const main = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
      for (const m of mine) {
        const st = (byStream[m.stream] ??= { records: 0, correct: 0 });
        st.records++;
        if (m.pred === main) st.correct++;
        for (const n of m.noise.length ? m.noise : ['none']) {
          const e = (byNoise[n] ??= { records: 0, correct: 0 });
          e.records++;
          if (m.pred === main) e.correct++;
        }
      }
    }
    const missingFromTruth = truthKeys.filter((k) => !seen.has(k)).length;
    const figures = pairwise(assignments);
    return {
      ...figures,
      records,
      persons: new Set(predicted.values()).size,
      truePersons,
      seconds,
      window: { start: Number(started) / 1e9, end: Number(ended) / 1e9 },
      cpuSeconds, kernel,
      recordsPerSecond: records / seconds,
      gridAccuracy: addresses ? gridRight / addresses : 1,
      communityAccuracy: addresses ? communityRight / addresses : 1,
      addresses,
      reviews,
      residenceSet: residence.n ? residence.set / residence.n : 1,
      missingFromTruth,
      missingFromSources,
      byNoise,
      byStream,
      methods,
      ...(options.keepDatabase ? { database: url } : {}),
    };
  } finally {
    await pool.end();
    if (!options.keepDatabase) await dropDatabase(url);
  }
}

/** The server processes (backends) connected to the evaluation's database. */
async function backendPids(db: Queryable): Promise<number[]> {
  return (await db.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database()')).rows.map((r) => r.pid);
}

/** CPU seconds (user + system) of the given server processes, from /proc (the database on this machine). */
interface BackendStat { cpu: number; system: number; faults: number }

function backendStats(pids: number[]): Map<number, BackendStat> {
  const out = new Map<number, BackendStat>();
  const tick = 100; // USER_HZ on Linux
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // After the command's closing parenthesis: state, ppid, …; minflt is the 8th, utime and stime the 12th and 13th.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(pid, { cpu: (Number(fields[11]) + Number(fields[12])) / tick, system: Number(fields[12]) / tick, faults: Number(fields[7]) });
    } catch {
      // not on this machine, or gone
    }
  }
  return out;
}

/** The sum over the backends of `field` between two readings (null when none could be read). */
function backendDelta(before: Map<number, BackendStat>, after: Map<number, BackendStat>, field: keyof BackendStat): number | null {
  if (!after.size) return null;
  let sum = 0;
  for (const [pid, s] of after) {
    const b = before.get(pid);
    if (b) sum += s[field] - b[field];
  }
  return sum;
}
