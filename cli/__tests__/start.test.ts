import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { dropDatabase, withDatabase } from '../../platform/db';
import { TEST_PG_URL, TEST_MYSQL_URL } from '../../test/support/services';
import { ROOT } from '../parts';

/**
 * The start-up path as a user runs it: `npm start` (cli/hub.ts start) brings up every part as a child
 * process, prints the gateway URL once /readyz is green, answers a query, and on SIGTERM stops leaving no
 * process behind. Runs on its own ports, database, Redis prefix and data folder.
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
  });

  it('starts every part, turns /readyz green, answers a query and stops cleanly', async () => {
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
        DEMO_LIVE: 'false',
        DATA_DIR: dataDir,
        REDIS_PREFIX: `tltest:start:${suffix}`,
        LOG_LEVEL: 'warn',
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
