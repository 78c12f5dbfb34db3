import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { dropDatabase, withDatabase } from '../../platform/db';
import { loadConfig } from '../../platform/config';
import { signDevToken } from '../../security/dev-token';
import { subscribeChanges } from '../../events/testing/ws-client';
import { createRedis } from '../../platform/redis';
import { cleanPrefix } from '../../test/support/redis';
import { TEST_PG_URL, TEST_MYSQL_URL, TEST_REDIS_URL } from '../../test/support/services';
import { ROOT } from '../parts';

/**
 * The start-up path as a user runs it: `npm start` (cli/hub.ts start) brings up every part as a child
 * process, prints the gateway URL once /readyz is green, answers a query, keeps the live demo systems in sync
 * (an incident created in the demo police system after start-up reaches a graphql-ws subscriber of the
 * gateway), and on SIGTERM stops leaving no process behind. Runs on its own ports, database, Redis prefix and
 * data folder.
 */
jest.setTimeout(240_000);

function descendants(pid: number): number[] {
  const out = execFileSync('ps', ['-eo', 'pid=,ppid='], { encoding: 'utf8' });
  const children = new Map<number, number[]>();
  for (const line of out.trim().split('\n')) {
    const [p, pp] = line.trim().split(/\s+/).map(Number);
    children.set(pp, [...(children.get(pp) ?? []), p]);
  }
  const all: number[] = [];
  const walk = (p: number) => { for (const c of children.get(p) ?? []) { all.push(c); walk(c); } };
  walk(pid);
  return all;
}

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

/** Connects to the demo police system once the demo part has created and seeded it. */
async function connectWhenSeeded(url: string, timeoutMs: number): Promise<Client> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const client = new Client({ connectionString: url });
    try {
      await client.connect();
      await client.query('SELECT 1 FROM t_jqxx LIMIT 1');
      return client;
    } catch (err) {
      await client.end().catch(() => undefined);
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

describe('npm start', () => {
  const suffix = randomBytes(3).toString('hex');
  const databaseUrl = withDatabase(TEST_PG_URL, `tl_start_${suffix}`);
  const policeUrl = withDatabase(TEST_PG_URL, `tl_start_police_${suffix}`);
  const mysqlUrl = TEST_MYSQL_URL.replace(/\/[^/]*$/, `/tl_start_civil_${suffix}`);
  const dataDir = mkdtempSync(join(tmpdir(), 'tonglan-start-'));
  const port = 14000 + Math.floor(Math.random() * 500);
  let hub: ChildProcess | undefined;
  let output = '';

  afterAll(async () => {
    if (hub && hub.exitCode === null) hub.kill('SIGKILL');
    await dropDatabase(databaseUrl).catch(() => undefined);
    await dropDatabase(policeUrl).catch(() => undefined);
    try {
      execFileSync('mariadb', ['-h', '127.0.0.1', '-u', 'root', '-e', `DROP DATABASE IF EXISTS tl_start_civil_${suffix}`]);
    } catch { /* no client: nothing to drop */ }
    rmSync(dataDir, { recursive: true, force: true });
    const redis = createRedis(TEST_REDIS_URL);
    await cleanPrefix(redis, `tltest:start:${suffix}`).finally(() => redis.disconnect());
  });

  it('starts every part, turns /readyz green, answers a query, follows a live demo change to a subscriber and stops cleanly', async () => {
    hub = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'cli/hub.ts'), 'start'], {
      cwd: ROOT,
      env: {
        ...process.env,
        NODE_OPTIONS: '',
        PORT: String(port),
        SUBGRAPH_PORT_BASE: String(port + 1),
        DEMO_PETITION_PORT: String(port + 20),
        DATABASE_URL: databaseUrl,
        DEMO_POLICE_DATABASE_URL: policeUrl,
        DEMO_MYSQL_URL: mysqlUrl,
        DEMO_PERSONS: '200',
        DEMO_LIVE: 'true',
        DEMO_LIVE_INTERVAL_MS: '1000',
        DATA_DIR: dataDir,
        REDIS_PREFIX: `tltest:start:${suffix}`,
        LOG_LEVEL: process.env.START_TEST_LOG_LEVEL ?? 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    hub.stdout!.on('data', (d: Buffer) => { output += d.toString(); });
    hub.stderr!.on('data', (d: Buffer) => { output += d.toString(); });

    const deadline = Date.now() + 200_000;
    while (!output.includes('Tonglan is ready') && Date.now() < deadline && hub.exitCode === null) {
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(output).toContain(`Tonglan is ready: http://127.0.0.1:${port}/graphql`);

    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(ready.status).toBe(200);
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);

    // Without a token the gateway answers with a coded error, never data.
    const anonymous = await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ grid(code: "5101") { code name } }' }),
    });
    const anonymousBody = (await anonymous.json()) as { errors?: Array<{ extensions?: { code?: string } }>; data?: unknown };
    expect(anonymousBody.errors?.[0]?.extensions?.code).toBe('TL_ERR_UNAUTHENTICATED');

    // Ready comes before the demo systems are seeded and synced; the hub then says when their data is in, and a
    // query sent after that line finds it (the README's first query).
    const demoDeadline = Date.now() + 180_000;
    while (!/Demo data is (in|still syncing)/.test(output) && Date.now() < demoDeadline && hub.exitCode === null) {
      await new Promise((r) => setTimeout(r, 250));
    }
    const announced = /Demo data is in: ([\d,]+) persons and ([\d,]+) events, synced from (.*)/.exec(output);
    if (!announced) console.log(`hub output:\n${output.slice(-4000)}`);
    expect(announced).not.toBeNull();
    expect(announced![3]).toContain('POLICE/demo-police');
    const persons = Number(announced![1]!.replace(/,/g, ''));
    expect(persons).toBeGreaterThan(0);
    const token = `Bearer ${await signDevToken(loadConfig({ NODE_ENV: 'test' }), { role: 'city-admin', sub: 'start-test' })}`;
    const counted = await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: token },
      body: JSON.stringify({ query: '{ persons(first: 1) { totalCount } }' }),
    });
    const countedBody = (await counted.json()) as { data?: { persons: { totalCount: number } }; errors?: unknown };
    expect(countedBody.errors).toBeUndefined();
    expect(countedBody.data!.persons.totalCount).toBeGreaterThanOrEqual(persons);

    // A live change, followed from the demo police system to a subscriber: an incident the live generator
    // creates after we subscribe is synced by the worker's schedule, relayed, and delivered with its entity
    // resolved through the gateway (incident number included).
    // The gateway is ready before the demo part has finished seeding its systems: wait for the police one.
    const police = await connectWhenSeeded(policeUrl, 120_000);
    try {
      const before = new Set((await police.query<{ jqbh: string }>('SELECT jqbh FROM t_jqxx')).rows.map((r) => r.jqbh));
      const sub = subscribeChanges(`ws://127.0.0.1:${port}/graphql`, token,
        `subscription { changes(filter: { entityTypes: ["Event"], departments: [POLICE], ops: [CREATE] }) {
           id type department entity { ... on Event { id kind policeIncident { incidentNo } } } } }`);
      try {
        const until = Date.now() + 90_000;
        let live: Record<string, any> | undefined;
        while (!live && Date.now() < until && sub.errors.length === 0 && !sub.closed) {
          live = sub.data.find((c) => c.entity?.policeIncident && !before.has(c.entity.policeIncident.incidentNo));
          if (!live) await new Promise((r) => setTimeout(r, 250));
        }
        expect(sub.errors).toEqual([]);
        // On failure, show what did arrive and what the hub said (e.g. an enrichment error that nulled entities).
        if (!live) console.log(`received ${sub.data.length} changes, the last: ${JSON.stringify(sub.data.slice(-3))}\nhub output:\n${output.slice(-4000)}`);
        expect(live).toMatchObject({ type: 'gov.tonglan.event.created', department: 'POLICE', entity: { kind: 'police_incident' } });
        const incidentNo = live!.entity.policeIncident.incidentNo as string;
        expect((await police.query('SELECT count(*)::int AS n FROM t_jqxx WHERE jqbh = $1', [incidentNo])).rows[0].n).toBe(1);
      } finally {
        await sub.stop();
      }
    } finally {
      await police.end();
    }

    // The worker starts after the demo systems: its first runs find their sources (no failed run at start-up).
    expect(output).not.toContain('sync run failed');

    const processes = descendants(hub.pid!);
    expect(processes.length).toBeGreaterThanOrEqual(8);

    const exited = new Promise<number | null>((done) => hub!.once('exit', (code) => done(code)));
    hub.kill('SIGTERM');
    expect(await exited).toBe(0);
    // Helpers of the parts (esbuild services of tsx) exit when their parent's pipes close: allow them a moment.
    const until = Date.now() + 15_000;
    while (processes.some(alive) && Date.now() < until) await new Promise((r) => setTimeout(r, 250));
    const left = processes.filter(alive).map((pid) => {
      try { return execFileSync('ps', ['-o', 'pid=,args=', '-p', String(pid)], { encoding: 'utf8' }).trim(); } catch { return String(pid); }
    });
    expect(left).toEqual([]);
  });
});
