import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { loadConfig } from '../../platform/config';
import { dropDatabase, withDatabase } from '../../platform/db';
import { createLogger } from '../../platform/logger';
import { TEST_MYSQL_URL, TEST_PG_URL } from '../../test/support/services';
import { part } from '../part';

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

describe('demo part', () => {
  const suffix = randomBytes(4).toString('hex');
  const policeUrl = withDatabase(TEST_PG_URL, `tl_demo_part_${suffix}`);
  const mysqlDb = `tl_demo_part_${suffix}`;
  let dir: string;

  beforeAll(async () => { dir = await mkdtemp(path.join(os.tmpdir(), 'tl-demo-part-')); });
  afterAll(async () => {
    await dropDatabase(policeUrl).catch(() => undefined);
    const admin = await mysql.createConnection({ uri: TEST_MYSQL_URL });
    await admin.query(`DROP DATABASE IF EXISTS \`${mysqlDb}\``);
    await admin.end();
    await rm(dir, { recursive: true, force: true });
  });

  it('seeds the systems, serves the petition API, changes live, and stops cleanly', async () => {
    const port = await freePort();
    const config = loadConfig({
      DEMO_DIR: dir, DEMO_PERSONS: '120', DEMO_SEED: '9', DEMO_POLICE_DATABASE_URL: policeUrl,
      DEMO_MYSQL_URL: `${TEST_MYSQL_URL.replace(/\/[^/]*$/, '')}/${mysqlDb}`, DEMO_PETITION_PORT: String(port),
      DEMO_LIVE: 'true', DEMO_LIVE_INTERVAL_MS: '200', DEMO_PETITION_TOKEN: 'part-test-token',
    });
    const running = await part.start({ config, databaseUrl: '', redisUrl: '', log: createLogger({ level: 'silent' }) });
    try {
      expect(running.url).toBe(`http://127.0.0.1:${port}/api/v1`);
      const health = await (await fetch(`${running.url}/health`)).json() as { status: string };
      expect(health.status).toBe('ok');
      const client = new pg.Client({ connectionString: policeUrl });
      await client.connect();
      const count = async (): Promise<number> => (await client.query(`SELECT count(*)::int AS n FROM t_jqxx`)).rows[0].n as number;
      const before = await count();
      await new Promise((resolve) => setTimeout(resolve, 1200));
      expect(await count()).toBeGreaterThan(before);
      await client.end();
      const list = await fetch(`${running.url}/petitions?page=1&page_size=5`, { headers: { 'x-api-key': 'part-test-token' } });
      expect(list.status).toBe(200);
    } finally {
      await running.stop();
    }
    await expect(fetch(`http://127.0.0.1:${port}/api/v1/health`)).rejects.toThrow();
  });
});
