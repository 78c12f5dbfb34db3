import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { createPool } from '../db';
import { named } from '../named-statement';
import { StatementQueueClient } from '../statement-queue';
import { createTestDatabase, type TestDatabase } from '../../test/support/db';

/**
 * Three statements sent together to one connection in a process of their own (fixtures/statements-together.ts),
 * with the project's client or node-postgres's: what the process printed.
 */
async function statementsTogether(kind: 'queue' | 'pg', url: string): Promise<{ stdout: string; stderr: string }> {
  return promisify(execFile)(process.execPath, ['--import', 'tsx', join(__dirname, 'fixtures', 'statements-together.ts'), kind, url], {
    cwd: join(__dirname, '..', '..'), env: { ...process.env, NODE_OPTIONS: '' }, timeout: 60_000,
  });
}

describe('StatementQueueClient', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('stmtqueue', { migrated: false });
    await db.pool.query('CREATE TABLE t (n int PRIMARY KEY, label text)');
  });
  afterAll(async () => { await db.drop(); });

  // Typed as node-postgres's client, as the project's code sees it (a PoolClient): its query overloads.
  const connect = async (): Promise<pg.Client> => {
    const client = new StatementQueueClient({ connectionString: db.url });
    await client.connect();
    return client;
  };

  it('runs statements sent together in order, a COPY written before its turn among them', async () => {
    const client = await connect();
    try {
      await client.query('TRUNCATE t');
      const order: string[] = [];
      const steps: Array<Promise<unknown>> = [];
      steps.push(client.query('BEGIN').then(() => order.push('begin')));
      steps.push(client.query('SELECT pg_sleep(0.05)').then(() => order.push('sleep')));
      const copy = client.query(copyFrom('COPY t (n, label) FROM STDIN'));
      const copied = new Promise<void>((resolve, reject) => { copy.once('finish', resolve); copy.once('error', reject); });
      copy.write('1\t张伟\n2\t成都市武侯区\n');
      copy.end();
      steps.push(copied.then(() => order.push('copy')));
      steps.push(client.query('SELECT count(*)::int AS n, string_agg(label, \'|\' ORDER BY n) AS labels FROM t').then((r) => {
        order.push('count');
        expect(r.rows[0]).toEqual({ n: 2, labels: '张伟|成都市武侯区' });
      }));
      const viaCallback = new Promise<number>((resolve, reject) => {
        client.query('SELECT $1::int AS x', [7], (err: Error | null, r: pg.QueryResult) => (err ? reject(err) : resolve(r.rows[0].x)));
      });
      steps.push(viaCallback.then((x) => { order.push('callback'); expect(x).toBe(7); }));
      steps.push(client.query('COMMIT').then(() => order.push('commit')));
      await Promise.all(steps);
      expect(order).toEqual(['begin', 'sleep', 'copy', 'count', 'callback', 'commit']);
      expect((await client.query('SELECT count(*)::int AS n FROM t')).rows[0].n).toBe(2);
    } finally {
      await client.end();
    }
  });

  it('keeps node-postgres from queueing, so that a process sending statements together prints no DeprecationWarning', async () => {
    const own = await statementsTogether('pg', db.url);
    expect(own.stdout.trim()).toBe('[1,2]');
    // The check can see the warning: node-postgres 8.23's own queue prints it for the same three statements.
    expect(own.stderr).toMatch(/DeprecationWarning: Calling client\.query\(\) when the client is already executing a query/);
    const queued = await statementsTogether('queue', db.url);
    expect(queued.stdout.trim()).toBe('[1,2]');
    expect(queued.stderr).not.toMatch(/DeprecationWarning/);
  });

  it('fails the statements behind a failed one as the database does, and goes on after the rollback', async () => {
    const client = await connect();
    try {
      await client.query('TRUNCATE t');
      const results = await Promise.allSettled([
        client.query('BEGIN'),
        client.query("INSERT INTO t VALUES (1, 'a')"),
        client.query("INSERT INTO t VALUES (1, 'duplicate')"),
        client.query("INSERT INTO t VALUES (2, 'b')"),
      ]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'rejected']);
      expect((results[2] as PromiseRejectedResult).reason).toMatchObject({ code: '23505' });
      expect((results[3] as PromiseRejectedResult).reason).toMatchObject({ code: '25P02' });
      await client.query('ROLLBACK');
      expect((await client.query('SELECT count(*)::int AS n FROM t')).rows[0].n).toBe(0);
    } finally {
      await client.end();
    }
  });

  it('fails the statements still waiting when the connection is lost, instead of leaving them pending', async () => {
    const client = await connect();
    client.on('error', () => undefined);
    const pid = (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
    const running = client.query('SELECT pg_sleep(5)');
    const waiting = [client.query('SELECT 1'), client.query('SELECT 2')];
    // Settled handlers attached before the backend is ended: its error can reach this process before the answer to
    // pg_terminate_backend does, and a rejection without a handler then fails the test as unhandled.
    const settled = Promise.allSettled([running, ...waiting]);
    await new Promise((r) => setTimeout(r, 100));
    await db.pool.query('SELECT pg_terminate_backend($1)', [pid]);
    const results = await settled;
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    await client.end().catch(() => undefined);
  });

  it('prepares a named statement again when a table it reads changed its columns, through a pool as on one client', async () => {
    await db.pool.query('CREATE TABLE r (id int PRIMARY KEY, label text)');
    await db.pool.query("INSERT INTO r VALUES (1, '网格一')");
    const pool = createPool(db.url, { max: 1 });
    try {
      const read = () => pool.query(named('SELECT r.* FROM r WHERE id = ANY($1::int[])', [[1]]));
      expect((await read()).rows).toEqual([{ id: 1, label: '网格一' }]);
      // The same statement on the same connection: prepared once, not parsed again.
      const prepared = async () => (await pool.query('SELECT count(*)::int AS n FROM pg_prepared_statements')).rows[0].n as number;
      expect(await prepared()).toBe(1);
      await db.pool.query("ALTER TABLE r ADD COLUMN grid_code text DEFAULT '5101'");
      // PostgreSQL refuses the statement prepared before ('cached plan must not change result type'): prepared again.
      expect((await read()).rows).toEqual([{ id: 1, label: '网格一', grid_code: '5101' }]);
      expect((await read()).rows).toEqual([{ id: 1, label: '网格一', grid_code: '5101' }]);
      const client = await pool.connect();
      try {
        const viaClient = await client.query(named('SELECT r.* FROM r WHERE id = ANY($1::int[])', [[1]]));
        expect(viaClient.rows[0].grid_code).toBe('5101');
      } finally {
        client.release();
      }
      // Other errors of a named statement are the caller's, unchanged.
      await expect(pool.query(named('SELECT r.* FROM r WHERE id = $1::int', ['not a number']))).rejects.toMatchObject({ code: '22P02' });
    } finally {
      await pool.end();
    }
  });

  it('is the client of the project\'s pools', async () => {
    const pool = createPool(db.url, { max: 1 });
    try {
      const client = await pool.connect();
      try {
        expect(client).toBeInstanceOf(StatementQueueClient);
        const [a, b] = await Promise.all([client.query('SELECT 1 AS x'), client.query('SELECT 2 AS x')]);
        expect([a.rows[0].x, b.rows[0].x]).toEqual([1, 2]);
      } finally {
        client.release();
      }
    } finally {
      await pool.end();
    }
  });
});
