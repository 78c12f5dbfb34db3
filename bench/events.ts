import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { performance } from 'node:perf_hooks';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { createGatewayServer } from '../gateway/server';
import { loadConfig } from '../platform/config';
import { createPool, type Pool } from '../platform/db';
import { createLogger } from '../platform/logger';
import { createRedis } from '../platform/redis';
import { composeSupergraph, subgraphSdls } from '../schema/supergraph';
import { createAuthenticator } from '../security/authenticate';
import { signDevToken, type DevTokenClaims } from '../security/dev-token';
import { GRIDS, loadGraphFixture } from '../test/fixtures/graph';
import { createTestDatabase } from '../test/support/db';
import { testPrefix } from '../test/support/redis';
import { TEST_REDIS_URL } from '../test/support/services';
import { OutboxRelay } from '../events/relay/outbox-relay';
import { startGatewaySubscriptions } from '../events/subscriptions/gateway-wiring';
import { announceReady, sampleProcess, startProcess } from './lib/process';
import { printJsonLine, printTable } from './lib/report';
import { median, percentile, round } from './lib/stats';

/**
 * `npm run bench:events` — change events from source commit to graphql-ws subscriber.
 *
 * The hub runs as it does under `npm start`, one process per part: the five graph subgraphs
 * (bench/fixtures/subgraphs-process.ts), the gateway with the change subscription attached at /graphql
 * (this file, `--gateway`), and the relay (this file, `--relay`), on a fresh database with the graph fixture.
 * The load process (this file): SUBSCRIBERS (default 1,000) real graphql-ws clients, each on its own
 * WebSocket, every one selecting the entity (resolved through the federated graph, batched), with ten
 * identities: four grid workers (one per fixture grid), two district officers and four city-wide integrators.
 *
 * Each run has two phases:
 *  - steady: RATE outbox commits per second (default 20) for SECONDS (default 5); latency = the moment a
 *    subscriber's client has the event minus the moment the writer's COMMIT returned, over every
 *    (subscriber, event) delivery: p50 / p99;
 *  - burst: BURST events (default 500) committed as fast as the writer can (20 per transaction); events/s =
 *    BURST / (last delivery to the last subscriber − first commit), and deliveries/s.
 * RUNS runs (default 3); the figures are medians over runs. Ends with one JSON line.
 * Options (environment): BENCH_SUBSCRIBERS, BENCH_RATE, BENCH_SECONDS, BENCH_BURST, BENCH_RUNS, BENCH_ENTITY=0 (no
 * entity selected: the fan-out alone), BENCH_PROFILE=<file> (CPU profile of the gateway process).
 */
const SUBSCRIBERS = Number(process.env.BENCH_SUBSCRIBERS ?? 1000);
const RATE = Number(process.env.BENCH_RATE ?? 20);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const BURST = Number(process.env.BENCH_BURST ?? 500);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const TARGET_P99_MS = 200;
const JWT_SECRET = 'bench-events-secret-0123456789abcdef';
const benchConfig = () => loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'warn', JWT_SECRET, RESPONSE_CACHE_TTL_MS: '0' });

// ---------------------------------------------------------------------------------------------------------
// The gateway process: argv = --gateway <databaseUrl> <prefix> <subgraph urls JSON>.

async function gatewayProcess(databaseUrl: string, prefix: string, urls: Record<string, string>): Promise<void> {
  const config = benchConfig();
  const log = createLogger({ level: 'warn' });
  const supergraphSdl = composeSupergraph(subgraphSdls().filter((s) => urls[s.name]));
  const gateway = await createGatewayServer({ config, databaseUrl, redisUrl: null, supergraphSdl, subgraphUrls: urls, log });
  const pool = createPool(databaseUrl, { max: 4, applicationName: 'bench-events-feed' });
  const subscriptions = await startGatewaySubscriptions({
    httpServer: gateway.httpServer, supergraphSdl, execute: (r, i) => gateway.execute(r, i),
    authenticate: createAuthenticator(config, pool), pool, redisUrl: TEST_REDIS_URL, prefix, log,
  });
  const url = await gateway.listen(0);
  // BENCH_PROFILE=file.cpuprofile: a CPU profile of the gateway process (open it in Chrome DevTools).
  const profiler = process.env.BENCH_PROFILE ? new Session() : null;
  if (profiler) {
    profiler.connect();
    await new Promise((resolve) => profiler.post('Profiler.enable', () => profiler.post('Profiler.start', resolve)));
  }
  process.once('SIGTERM', () => void (async () => {
    if (profiler) {
      await new Promise<void>((resolve) => profiler.post('Profiler.stop', (_err, { profile }) => {
        writeFileSync(process.env.BENCH_PROFILE!, JSON.stringify(profile));
        resolve();
      }));
    }
    await subscriptions.close();
    await gateway.stop();
    await pool.end();
    process.exit(0);
  })());
  announceReady({ wsUrl: url.replace(/^http/, 'ws') });
}

// ---------------------------------------------------------------------------------------------------------
// The relay process: argv = --relay <databaseUrl> <prefix>.

async function relayProcess(databaseUrl: string, prefix: string): Promise<void> {
  const pool = createPool(databaseUrl, { max: 4, applicationName: 'bench-events-relay' });
  const publisher = createRedis(TEST_REDIS_URL);
  const relay = new OutboxRelay({ pool, databaseUrl, redis: publisher, prefix, log: createLogger({ level: 'warn' }) });
  await relay.start();
  process.once('SIGTERM', () => void (async () => {
    await relay.stop();
    publisher.disconnect();
    await pool.end();
    process.exit(0);
  })());
  announceReady({});
}

// ---------------------------------------------------------------------------------------------------------
// The load process.

interface Subscriber {
  client: Client;
  scope: string[] | null;
  received: number;
  connected: boolean;
}

// BENCH_ENTITY=0: subscribers select no entity (the fan-out alone, no federated fetch).
const WITH_ENTITY = process.env.BENCH_ENTITY !== '0';
const SELECTION = WITH_ENTITY
  ? 'subscription { changes { id type op gridCode changedFields entity { __typename ... on Event { id title status grid { code } } } } }'
  : 'subscription { changes { id type op gridCode changedFields } }';

/** seq → the time its COMMIT returned. */
const committedAt = new Map<string, number>();
/** Per phase (`s1`, `b1`, …, the part of a seq before '-'): deliveries, their latencies, the last one's time. */
const phases = new Map<string, { deliveries: number; latencies: number[]; lastAt: number }>();
let nullEntities = 0;

function phase(tag: string) {
  let p = phases.get(tag);
  if (!p) phases.set(tag, (p = { deliveries: 0, latencies: [], lastAt: 0 }));
  return p;
}

function sees(scope: string[] | null, grid: string): boolean {
  return scope === null || scope.some((c) => grid.startsWith(c));
}

async function commit(pool: Pool, rows: Array<{ seq: string; event: { id: string; grid: string } }>): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(
      `INSERT INTO hub.outbox (entity_type, entity_id, op, department, grid_code, changed_fields)
       SELECT 'Event', e, 'UPDATE', 'POLICE', g, ARRAY[s] FROM unnest($1::uuid[], $2::text[], $3::text[]) AS t(e, g, s)`,
      [rows.map((r) => r.event.id), rows.map((r) => r.event.grid), rows.map((r) => r.seq)]);
    await client.query('COMMIT');
    const now = performance.now();
    for (const r of rows) committedAt.set(r.seq, now);
  } finally {
    client.release();
  }
}

async function waitUntil(predicate: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}

async function main(): Promise<void> {
  process.stderr.write('bench:events — database with the graph fixture; subgraphs, gateway + subscriptions and relay processes…\n');
  const db = await createTestDatabase('benchevents');
  const prefix = testPrefix('benchevents');
  const processes: Array<{ stop(): Promise<void> }> = [];
  const subscribers: Subscriber[] = [];
  const results: Array<Record<string, number>> = [];
  const pool = db.pool;
  try {
    await loadGraphFixture(db.pool);
    const { rows: events } = await db.pool.query<{ id: string; grid: string }>(
      'SELECT id, grid_code AS grid FROM core.events WHERE grid_code IS NOT NULL ORDER BY id');
    const subgraphs = await startProcess<{ urls: Record<string, string> }>('subgraphs', 'bench/fixtures/subgraphs-process.ts', [db.url]);
    processes.push(subgraphs);
    const subgraphsPid = subgraphs.pid;
    const gateway = await startProcess<{ wsUrl: string }>('gateway', 'bench/events.ts', ['--gateway', db.url, prefix, JSON.stringify(subgraphs.ready.urls)]);
    processes.push(gateway);
    processes.push(await startProcess('relay', 'bench/events.ts', ['--relay', db.url, prefix]));
    const { wsUrl } = gateway.ready;
    const config = benchConfig();
    const identities: Array<{ claims: DevTokenClaims; scope: string[] | null }> = [
      ...(['g1', 'g2', 'g3', 'g4'] as const).map((g) => ({ claims: { role: 'grid-worker' as const, sub: `bench:${g}`, grids: [GRIDS[g]] }, scope: [GRIDS[g]] })),
      { claims: { role: 'district-officer', sub: 'bench:jinjiang', districts: [GRIDS.jinjiang] }, scope: [GRIDS.jinjiang] },
      { claims: { role: 'district-officer', sub: 'bench:qingyang', districts: [GRIDS.qingyang] }, scope: [GRIDS.qingyang] },
      ...[1, 2, 3, 4].map((n) => ({ claims: { role: 'integrator' as const, sub: `bench:integrator-${n}` }, scope: null })),
    ];
    const tokens = await Promise.all(identities.map(async (i) => ({ token: await signDevToken(config, i.claims), scope: i.scope })));
    process.stderr.write(`connecting ${SUBSCRIBERS} graphql-ws subscribers to ${wsUrl}…\n`);
    // In chunks, each waiting for its connections to be acknowledged, so a loaded machine is not asked for a
    // thousand handshakes at once (graphql-ws closes a connection not initialised within 3 s).
    for (let i = 0; i < SUBSCRIBERS; i++) {
      const identity = tokens[i % tokens.length]!;
      const client = createClient({
        url: wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${identity.token}` },
        lazy: true, retryAttempts: 5, shouldRetry: () => true,
      });
      const sub: Subscriber = { client, scope: identity.scope, received: 0, connected: false };
      client.on('connected', () => { sub.connected = true; });
      client.subscribe({ query: SELECTION }, {
        next: (result) => {
          const at = performance.now();
          const change = (result.data as { changes?: { changedFields: string[]; entity: unknown } } | undefined)?.changes;
          if (!change) return;
          sub.received += 1;
          if (WITH_ENTITY && change.entity === null) nullEntities += 1;
          const seq = change.changedFields[0]!;
          const p = phase(seq.slice(0, seq.indexOf('-')));
          p.deliveries += 1;
          p.lastAt = at;
          const t0 = committedAt.get(seq);
          if (t0 !== undefined) p.latencies.push(at - t0);
        },
        error: (err) => process.stderr.write(`subscriber ${i}: ${err instanceof Error ? err.message : JSON.stringify(err).slice(0, 200)}\n`),
        complete: () => undefined,
      });
      subscribers.push(sub);
      if (i % 50 === 49 || i === SUBSCRIBERS - 1) {
        const chunk = subscribers.slice(i - (i % 50));
        if (!(await waitUntil(() => chunk.every((s) => s.connected), 60_000))) throw new Error(`subscribers ${i - (i % 50)}…${i} did not connect`);
      }
    }
    // Warm-up: one event per fixture grid, until every subscriber has one (all registered).
    const byGrid = new Map(events.map((e) => [e.grid, e]));
    let warm = 0;
    let ready = false;
    for (let round = 0; round < 100 && !ready; round++) {
      await commit(pool, [...byGrid.values()].map((event) => ({ seq: `warm-${warm++}`, event })));
      ready = await waitUntil(() => subscribers.every((s) => s.received > 0), 1000);
    }
    if (!ready) throw new Error(`only ${subscribers.filter((s) => s.received > 0).length} of ${SUBSCRIBERS} subscribers received the warm-up events`);
    process.stderr.write(`all ${SUBSCRIBERS} subscribers receiving; ${RUNS} runs of ${RATE} events/s × ${SECONDS} s, then a burst of ${BURST}\n`);

    const sampler = sampleProcess(gateway.pid);
    const subgraphSampler = sampleProcess(subgraphsPid);
    let seq = 0;
    for (let run = 1; run <= RUNS; run++) {
      // Steady phase.
      const steadyEvents: Array<{ id: string; grid: string }> = [];
      const interval = 1000 / RATE;
      const start = performance.now();
      for (let n = 0; n < RATE * SECONDS; n++) {
        const event = events[n % events.length]!;
        steadyEvents.push(event);
        await commit(pool, [{ seq: `s${run}-${seq++}`, event }]);
        const next = start + (n + 1) * interval;
        const wait = next - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      const expected = steadyEvents.reduce((sum, e) => sum + subscribers.filter((s) => sees(s.scope, e.grid)).length, 0);
      const steady = phase(`s${run}`);
      await waitUntil(() => steady.deliveries >= expected, 60_000);

      // Burst phase.
      const burstEvents = Array.from({ length: BURST }, (_, n) => events[n % events.length]!);
      const burstExpected = burstEvents.reduce((sum, e) => sum + subscribers.filter((s) => sees(s.scope, e.grid)).length, 0);
      const burst = phase(`b${run}`);
      const burstStart = performance.now();
      for (let n = 0; n < BURST; n += 20) {
        await commit(pool, burstEvents.slice(n, n + 20).map((event) => ({ seq: `b${run}-${seq++}`, event })));
      }
      const done = await waitUntil(() => burst.deliveries >= burstExpected, 180_000);
      const burstSeconds = (burst.lastAt - burstStart) / 1000;
      const figures = {
        run,
        steadyP50Ms: round(percentile(steady.latencies, 50), 1),
        steadyP99Ms: round(percentile(steady.latencies, 99), 1),
        steadyMaxMs: round(steady.latencies.reduce((a, b) => Math.max(a, b), 0), 1),
        steadyDelivered: steady.deliveries,
        steadyExpected: expected,
        burstEventsPerSecond: done ? round(BURST / burstSeconds, 0) : 0,
        burstDeliveriesPerSecond: done ? round(burst.deliveries / burstSeconds, 0) : 0,
        burstP99Ms: round(percentile(burst.latencies, 99), 1),
        burstDelivered: burst.deliveries,
        burstExpected,
      };
      results.push(figures);
      process.stderr.write(`run ${run}: ${JSON.stringify(figures)}\n`);
      await new Promise((r) => setTimeout(r, 500));
    }
    const usage = sampler.stop();
    const subgraphUsage = subgraphSampler.stop();
    printTable(results);
    const m = (k: string) => median(results.map((r) => r[k]!));
    const p99 = m('steadyP99Ms');
    printJsonLine('events', {
      subscribers: SUBSCRIBERS,
      identities: tokens.length,
      entitySelected: WITH_ENTITY,
      steadyRatePerSecond: RATE,
      steadySeconds: SECONDS,
      burstEvents: BURST,
      runs: RUNS,
      p50Ms: m('steadyP50Ms'),
      p99Ms: p99,
      eventsPerSecond: m('burstEventsPerSecond'),
      deliveriesPerSecond: m('burstDeliveriesPerSecond'),
      burstP99Ms: m('burstP99Ms'),
      allDelivered: results.every((r) => r.steadyDelivered === r.steadyExpected && r.burstDelivered === r.burstExpected),
      nullEntities,
      targetP99Ms: TARGET_P99_MS,
      p99WithinTarget: p99 < TARGET_P99_MS,
      gatewayCpuSeconds: round(usage.cpuSeconds, 1),
      gatewayPeakRssMiB: round(usage.peakRssMiB, 0),
      subgraphsCpuSeconds: round(subgraphUsage.cpuSeconds, 1),
    });
  } finally {
    await Promise.all(subscribers.map((s) => s.client.dispose()));
    for (const p of processes.reverse()) await p.stop();
    const redis = createRedis(TEST_REDIS_URL);
    await redis.del(`${prefix}:events:live`).catch(() => undefined);
    redis.disconnect();
    await db.drop();
  }
}

const role = process.argv[2];
const run = role === '--gateway'
  ? gatewayProcess(process.argv[3]!, process.argv[4]!, JSON.parse(process.argv[5]!) as Record<string, string>)
  : role === '--relay'
    ? relayProcess(process.argv[3]!, process.argv[4]!)
    : main();
run.catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
