import { createTestDatabase, type TestDatabase } from '../../test/support/db';
import { cleanPrefix, testPrefix } from '../../test/support/redis';
import { TEST_REDIS_URL } from '../../test/support/services';
import { createRedis } from '../../platform/redis';
import { partLogger } from '../../platform/logger';
import { connectorSettings, createConnector, getConnector, setPaused } from '../connector-store';
import { getConnectorKind } from '../../connectors/registry';
import { SyncQueues } from '../worker/sync-queues';
import { SyncWorker } from '../worker/sync-worker';
import { getRun, type SyncRunRow } from '../runs';
import { createSourceDb, insertJq, jqRow, policeConnectorInput, runFinished, startWorkerChild, waitFor, type SourceDb } from './fixtures';
import type { Redis } from 'ioredis';

const log = partLogger('worker-test');
log.level = 'silent';

let hub: TestDatabase;
let source: SourceDb;
let redis: Redis;
const prefix = testPrefix('syncworker');
let queues: SyncQueues;

const finished = (id: string) => runFinished(hub.pool, id);
const startChild = () => startWorkerChild({ hubUrl: hub.url, prefix });

beforeAll(async () => {
  hub = await createTestDatabase('syncworker');
  source = await createSourceDb('worker');
  redis = createRedis(TEST_REDIS_URL);
  queues = new SyncQueues(hub.pool, redis, prefix);
});

afterAll(async () => {
  await queues?.close();
  await cleanPrefix(redis, prefix);
  redis?.disconnect();
  await hub?.drop();
  await source?.drop();
});

describe('sync worker (BullMQ)', () => {
  it('a worker SIGKILLed in the middle of a run and restarted ends with exactly the source rows: no duplicate, no loss', async () => {
    await insertJq(source.client, Array.from({ length: 1200 }, (_, i) => jqRow(i)));
    const connector = await createConnector(hub.pool, policeConnectorInput(source, {}, 50));
    let child = await startChild();
    const { run } = await queues.runNow(connector, 'INCREMENTAL');
    // Kill it once some batches have committed, with more to come.
    await waitFor(async () => ((await getRun(hub.pool, run.id))?.records_read ?? 0) >= 200, 30_000, 'first batches');
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const mid = (await getRun(hub.pool, run.id))!;
    expect(mid.status).toBe('running');
    expect(mid.records_read).toBeLessThan(1200);

    child = await startChild();
    try {
      const done: SyncRunRow = await finished(run.id);
      expect(done.status).toBe('succeeded');
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    const { rows: live } = await hub.pool.query(
      `SELECT incident_no, summary, address, parties->0->>'idNumber' AS id_number FROM police.incidents WHERE _connector_id = $1 ORDER BY incident_no`, [connector.id]);
    const { rows: src } = await source.client.query(`SELECT jjdbh AS incident_no, jyaq AS summary, fadz AS address, dsr->0->>'sfzh' AS id_number FROM jq ORDER BY jjdbh`);
    expect(live).toEqual(src);
    // Exactly once downstream too: one event and one outbox CREATE per incident.
    const { rows: [c] } = await hub.pool.query(
      `SELECT (SELECT count(*) FROM core.events WHERE source_table = 'police.incidents')::int AS events,
              (SELECT count(*) FROM hub.outbox WHERE entity_type = 'Event' AND op = 'CREATE')::int AS creates,
              (SELECT count(DISTINCT entity_id) FROM hub.outbox WHERE entity_type = 'Event' AND op = 'CREATE')::int AS distinct_creates,
              (SELECT count(*) FROM hub.outbox WHERE entity_type = 'Event' AND op = 'UPDATE')::int AS updates`);
    expect(c).toEqual({ events: 1200, creates: 1200, distinct_creates: 1200, updates: 0 });
  }, 90_000);

  describe('in-process worker', () => {
    let worker: SyncWorker;
    beforeAll(async () => {
      worker = new SyncWorker({ pool: hub.pool, connection: redis, prefix, log, batchSize: 100, departments: ['POLICE', 'CIVIL_AFFAIRS'] });
      await worker.waitUntilReady();
    });
    afterAll(async () => worker?.close());

    it('a wrong password fails the check clearly and the run once, without retries', async () => {
      const connector = await createConnector(hub.pool, {
        ...policeConnectorInput(source),
        department: 'CIVIL_AFFAIRS',
        kind: 'mysql',
        config: { host: '127.0.0.1', port: 3306, database: 'test', user: 'root', password: 'wrong-password' },
        streams: [{ name: 'jz_family', primaryKey: ['id'] }],
        mapping: { version: 1, streams: { jz_family: { target: 'civil.households', fields: { household_no: 'id' } } } },
      });
      
      
      const check = await getConnectorKind('mysql').check((await connectorSettings(hub.pool, connector.id)).config);
      expect(check).toMatchObject({ ok: false, code: 'TL_ERR_CONNECTOR_AUTH' });
      expect(check.message).not.toContain('wrong-password');

      const { run } = await queues.runNow(connector);
      const done = await finished(run.id);
      expect(done.status).toBe('failed');
      expect(done.error).toMatchObject({ code: 'TL_ERR_CONNECTOR_AUTH' });
      const job = await queues.queue('CIVIL_AFFAIRS').getJob(run.id);
      expect(job?.attemptsMade).toBe(1);
      expect(await job?.getState()).toBe('failed');
    });

    it('runs at most one run per connector at a time, and pause stops runs', async () => {
      const small = await createSourceDb('worker2');
      await insertJq(small.client, Array.from({ length: 30 }, (_, i) => jqRow(i)));
      const connector = await createConnector(hub.pool, policeConnectorInput(small, { name: 'jq-single' }, 200));
      const first = await queues.runNow(connector);
      const second = await queues.runNow(connector, 'FULL_REFRESH');
      expect(first.created).toBe(true);
      expect(second).toMatchObject({ created: false, run: { id: first.run.id } });
      expect((await finished(first.run.id)).status).toBe('succeeded');

      // A queued run whose job vanished (Redis restarted) is queued again instead of blocking the connector.
      const orphan = await hub.pool.query(`INSERT INTO hub.sync_runs (connector_id, mode, status) VALUES ($1, 'INCREMENTAL', 'queued') RETURNING id`, [connector.id]);
      expect(await queues.requeueOrphans()).toBe(1);
      expect((await finished(orphan.rows[0].id)).status).toBe('succeeded');

      
      const paused = await setPaused(hub.pool, connector.id, true);
      await expect(queues.runNow(paused)).rejects.toThrow(/paused/);
      await queues.schedule({ ...paused, schedule: { everyMs: 60_000 } });
      expect(await queues.queue('POLICE').getJobSchedulersCount()).toBe(0);
      const resumed = await setPaused(hub.pool, connector.id, false);
      await queues.schedule({ ...resumed, schedule: { everyMs: 60_000 } });
      expect((await queues.queue('POLICE').getJobSchedulers()).map((s) => s.key)).toEqual([`connector:${connector.id}`]);
      await queues.unschedule(connector);
      expect(await getConnector(hub.pool, connector.id)).toMatchObject({ paused: false });
      await small.drop();
    });
  });
});
