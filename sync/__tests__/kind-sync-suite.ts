import type { Redis } from 'ioredis';
import { createTestDatabase, type TestDatabase } from '../../test/support/db';
import { cleanPrefix, testPrefix } from '../../test/support/redis';
import { TEST_REDIS_URL } from '../../test/support/services';
import { createRedis } from '../../platform/redis';
import { partLogger } from '../../platform/logger';
import { getConnectorKind } from '../../connectors/registry';
import { connectorSettings, createConnector, type ConnectorRecord } from '../connector-store';
import { getRun, type SyncMode, type SyncRunRow } from '../runs';
import { SyncQueues } from '../worker/sync-queues';
import { SyncWorker } from '../worker/sync-worker';
import { idNumber, JQ_MAPPING, jqRow, runFinished, startWorkerChild, waitFor } from './fixtures';
import { at, createKindSource, type ExpectedBadRecord, type KindName, type KindSource, type SrcRow } from './kind-sources';

/**
 * One suite run for every connector kind (issue #5): the same police data held by a real source of the kind
 * (kind-sources.ts) is synced by the real BullMQ worker through the real pipeline into police.incidents, and
 * the hub's rows are compared with the source's row by row:
 *  1. a full refresh, then an incremental run reading only what changed; bad rows (an unknown status code, a
 *     date that is not one, an ID number with a wrong check digit, and a record the kind itself flags as
 *     malformed) are quarantined exactly, with their reasons, and the rest loads;
 *  2. a worker process killed with SIGKILL in the middle of a run, and a new one, end with exactly the source's
 *     rows: no duplicate, no loss, one event and one outbox CREATE per row;
 *  3. a wrong credential (or, for the file kind, a missing folder) fails the check with a clear code and fails
 *     the run once, without retries; for push, a batch with a wrong token is refused and nothing is stored.
 */
const log = partLogger('kind-sync-test');
log.level = 'silent';

const BAD_STATUS = 7;
const BAD_DATE = 11;
const BAD_ID = 12;

export function srcRow(i: number, overrides: Partial<SrcRow> = {}): SrcRow {
  return { ...jqRow(i), gxsj: at(i), ...overrides };
}

/** 120 rows, three of which fail mapping for the reasons above. */
function firstLoad(): SrcRow[] {
  const rows = Array.from({ length: 120 }, (_, i) => srcRow(i));
  rows[BAD_STATUS] = srcRow(BAD_STATUS, { zt: '99' });
  rows[BAD_DATE] = srcRow(BAD_DATE, { bjsj: '2024-13-45' });
  rows[BAD_ID] = srcRow(BAD_ID, { dsr: [{ xm: '李四', sfzh: '510104198001011230', js: '1' }] });
  return rows;
}
const BAD_KEYS = new Set([BAD_STATUS, BAD_DATE, BAD_ID].map((i) => jqRow(i).jjdbh));

const STATUS: Record<string, string> = { 10: '已受理', 20: '处置中', 30: '已办结' };
const CATEGORY: Record<string, string> = { 盗窃: '020101', 诈骗: '020103', 纠纷: '0102' };

/** What police.incidents must hold for the source's rows (the bad ones left out). */
function expectedRows(rows: SrcRow[], bad: Set<string> = BAD_KEYS) {
  return rows.filter((r) => !bad.has(r.jjdbh)).map((r) => {
    const party = r.dsr[0] as { xm: string; sfzh: string };
    return {
      incident_no: r.jjdbh, summary: r.jyaq, address: r.fadz, status: STATUS[r.zt] ?? null, category_code: CATEGORY[r.ajlb] ?? null,
      source_category: r.ajlb, bjsj: r.bjsj, party_name: party.xm, party_id_number: party.sfzh, updated_at: new Date(r.gxsj).toISOString(),
    };
  });
}

export function describeKindSync(kind: KindName): void {
  describe(`sync of the ${kind} kind through the worker`, () => {
    let hub: TestDatabase;
    let redis: Redis;
    const prefix = testPrefix(`kind-${kind}`);
    const childPrefix = testPrefix(`kind-${kind}-child`);
    let queues: SyncQueues;
    let childQueues: SyncQueues;
    let worker: SyncWorker;
    const sources: KindSource[] = [];

    beforeAll(async () => {
      hub = await createTestDatabase(`kind${kind}`);
      redis = createRedis(TEST_REDIS_URL);
      queues = new SyncQueues(hub.pool, redis, prefix);
      childQueues = new SyncQueues(hub.pool, redis, childPrefix);
      worker = new SyncWorker({ pool: hub.pool, connection: redis, prefix, log, batchSize: 40, departments: ['POLICE'] });
      await worker.waitUntilReady();
    });

    afterAll(async () => {
      await worker?.close();
      await queues?.close();
      await childQueues?.close();
      if (redis) {
        await cleanPrefix(redis, prefix);
        await cleanPrefix(redis, childPrefix);
        redis.disconnect();
      }
      for (const s of sources) await s.close().catch(() => undefined);
      await hub?.drop();
    });

    async function newSource(): Promise<KindSource> {
      const s = await createKindSource(kind, hub.pool);
      sources.push(s);
      return s;
    }

    async function connectorFor(source: KindSource, config: Record<string, unknown>): Promise<ConnectorRecord> {
      const connector = await createConnector(hub.pool, {
        department: 'POLICE', name: `${kind}-${sources.length}-${Date.now()}`, kind, config,
        streams: [source.stream], mapping: structuredClone(JQ_MAPPING), schedule: null,
      });
      source.bind(connector.id);
      return connector;
    }

    /** A run through the in-process worker (BullMQ), to its end. */
    async function runViaWorker(connector: ConnectorRecord, mode: SyncMode): Promise<SyncRunRow> {
      const { run } = await queues.runNow(connector, mode);
      return runFinished(hub.pool, run.id, 90_000);
    }

    async function liveRows(connectorId: string) {
      const { rows } = await hub.pool.query(
        `SELECT incident_no, summary, address, status, category_code, source_category,
                to_char(reported_at AT TIME ZONE 'Asia/Shanghai', 'YYYYMMDDHH24MISS') AS bjsj,
                parties->0->>'name' AS party_name, parties->0->>'idNumber' AS party_id_number,
                to_char(_source_updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS updated_at
           FROM police.incidents WHERE _connector_id = $1 AND _deleted_at IS NULL ORDER BY incident_no`, [connectorId]);
      return rows;
    }

    /** Events and outbox rows of a connector's incidents: exactly one event and one CREATE per row. */
    async function downstream(connectorId: string) {
      const { rows: [c] } = await hub.pool.query(
        `WITH ev AS (SELECT e.id FROM core.events e JOIN police.incidents i ON e.source_table = 'police.incidents' AND e.source_id = i.id
                      WHERE i._connector_id = $1)
         SELECT (SELECT count(*) FROM ev)::int AS events,
                (SELECT count(*) FROM hub.outbox o WHERE o.entity_type = 'Event' AND o.op = 'CREATE' AND o.entity_id IN (SELECT id FROM ev))::int AS creates,
                (SELECT count(DISTINCT o.entity_id) FROM hub.outbox o WHERE o.entity_type = 'Event' AND o.op = 'CREATE' AND o.entity_id IN (SELECT id FROM ev))::int AS distinct_creates,
                (SELECT count(*) FROM hub.outbox o WHERE o.entity_type = 'Event' AND o.op = 'UPDATE' AND o.entity_id IN (SELECT id FROM ev))::int AS updates`,
        [connectorId]);
      return c as { events: number; creates: number; distinct_creates: number; updates: number };
    }

    it('full refresh, then incremental: exactly the source rows; bad rows quarantined with their reasons, the rest loaded', async () => {
      const source = await newSource();
      const connector = await connectorFor(source, source.config({ pageSize: 25 }));
      await source.put(firstLoad());
      const malformed: ExpectedBadRecord[] = (await source.putMalformed?.()) ?? [];

      const full = await runViaWorker(connector, 'FULL_REFRESH');
      expect(full).toMatchObject({
        status: 'succeeded', error: null, records_read: 120 + malformed.length, records_written: 117, records_quarantined: 3 + malformed.length,
      });
      expect(await liveRows(connector.id)).toEqual(expectedRows(await source.rows()));
      // Chinese text arrives intact (GBK CSV, XLSX, JSON, both databases).
      const sample = (await liveRows(connector.id)).find((r) => r.incident_no === 'JJ000001')!;
      expect(sample).toMatchObject({ summary: '第1号警情：居民报称财物被盗', address: '四川省成都市武侯区浆洗街街道洗面桥街1号', party_name: '张芳1' });

      const { rows: q } = await hub.pool.query(
        `SELECT record_key, errors, payload, status FROM hub.quarantine WHERE connector_id = $1 ORDER BY record_key NULLS LAST`, [connector.id]);
      const keyed = q.filter((x) => BAD_KEYS.has(x.record_key));
      expect(keyed.map((x) => [x.record_key, x.errors])).toEqual([
        ['JJ000007', [{ field: 'status', reason: 'unknown code "99"', value: '99' }]],
        ['JJ000011', [expect.objectContaining({ field: 'reported_at', reason: expect.stringMatching(/not a date/), value: '2024-13-45' })]],
        ['JJ000012', [expect.objectContaining({ field: 'parties[0].idNumber', reason: expect.stringMatching(/check digit/), value: '510104198001011230' })]],
      ]);
      expect(keyed.map((x) => x.payload.jjdbh)).toEqual(['JJ000007', 'JJ000011', 'JJ000012']);
      const others = q.filter((x) => !BAD_KEYS.has(x.record_key));
      expect(others).toHaveLength(malformed.length);
      malformed.forEach((m, i) => {
        expect(others[i].record_key ?? null).toBe(m.recordKey);
        expect(others[i].errors).toEqual([{ field: m.field, reason: expect.stringMatching(m.reason) }]);
      });
      expect(q.every((x) => x.status === 'open')).toBe(true);
      expect(await downstream(connector.id)).toEqual({ events: 117, creates: 117, distinct_creates: 117, updates: 0 });

      // Incremental: a changed status and two new rows, now; only they (and the look-back window's last row) are read.
      const now = new Date().toISOString();
      await source.put([srcRow(5, { zt: '10', gxsj: now }), srcRow(200, { gxsj: now }), srcRow(201, { gxsj: now })]);
      const inc = await runViaWorker(connector, 'INCREMENTAL');
      expect(inc).toMatchObject({ status: 'succeeded', records_written: 3, records_quarantined: 0 });
      expect(inc.records_read).toBeGreaterThanOrEqual(3);
      expect(inc.records_read).toBeLessThanOrEqual(4);
      expect(await liveRows(connector.id)).toEqual(expectedRows(await source.rows()));
      expect((await liveRows(connector.id)).find((r) => r.incident_no === 'JJ000005')).toMatchObject({ status: '已受理' });
      expect(await downstream(connector.id)).toEqual({ events: 119, creates: 119, distinct_creates: 119, updates: 1 });
      const { rows: [{ n: open }] } = await hub.pool.query(`SELECT count(*)::int AS n FROM hub.quarantine WHERE connector_id = $1 AND status = 'open'`, [connector.id]);
      expect(open).toBe(3 + malformed.length);

      // Nothing changed since: a further incremental run writes nothing.
      const idle = await runViaWorker(connector, 'INCREMENTAL');
      expect(idle).toMatchObject({ status: 'succeeded', records_written: 0 });
    }, 180_000);

    it.each(['INCREMENTAL', 'FULL_REFRESH'] as const)('%s: a worker SIGKILLed in the middle of the run and restarted ends with exactly the source rows: no duplicate, no loss', async (mode) => {
      const source = await newSource();
      const connector = await connectorFor(source, source.config({ pageSize: 50 }));
      const total = 1500;
      const rows = Array.from({ length: total }, (_, i) => srcRow(1000 + i, { dsr: [{ xm: `王${'建国秀英'[i % 4]}${i}`, sfzh: idNumber(1000 + i), js: '2' }] }));
      for (let i = 0; i < total; i += 300) await source.put(rows.slice(i, i + 300)); // five files for the file kind
      source.slowDown?.(20);

      let child = await startWorkerChild({ hubUrl: hub.url, prefix: childPrefix, batch: 50 });
      const { run } = await childQueues.runNow(connector, mode);
      try {
        await waitFor(async () => ((await getRun(hub.pool, run.id))?.records_read ?? 0) >= 200, 60_000, 'the first batches to commit');
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGKILL');
        await exited;
        const mid = (await getRun(hub.pool, run.id))!;
        expect(mid.status).toBe('running');
        expect(mid.records_read).toBeLessThan(total);

        child = await startWorkerChild({ hubUrl: hub.url, prefix: childPrefix, batch: 50 });
        const done = await runFinished(hub.pool, run.id, 120_000);
        expect(done).toMatchObject({ status: 'succeeded', error: null, records_quarantined: 0 });
        if (mode === 'FULL_REFRESH') expect(done.records_written).toBe(total); // the killed read left nothing live
      } finally {
        await child.stop();
        source.slowDown?.(0);
      }
      const live = await liveRows(connector.id);
      expect(live).toHaveLength(total);
      expect(live).toEqual(expectedRows(await source.rows(), new Set()));
      expect(await downstream(connector.id)).toEqual({ events: total, creates: total, distinct_creates: total, updates: 0 });
    }, 240_000);

    it('refused access fails the check with a clear code and the run once, without retries', async () => {
      const source = await newSource();
      if (source.sendWithWrongCredential) {
        // Inbound kind: the department's batch with a wrong token is refused, and nothing is stored or loaded.
        const connector = await connectorFor(source, source.config());
        const answer = await source.sendWithWrongCredential([srcRow(1)]);
        expect(answer).toMatchObject({ status: 401, code: 'TL_ERR_CONNECTOR_AUTH' });
        const { rows: [{ n }] } = await hub.pool.query(`SELECT count(*)::int AS n FROM hub.push_batches WHERE connector_id = $1`, [connector.id]);
        expect(n).toBe(0);
        const run = await runViaWorker(connector, 'INCREMENTAL');
        expect(run).toMatchObject({ status: 'succeeded', records_read: 0 });
        expect(await liveRows(connector.id)).toEqual([]);
        return;
      }
      const refused = source.refusedConfig!();
      const connector = await connectorFor(source, refused.config);
      const { config } = await connectorSettings(hub.pool, connector.id);
      const check = await getConnectorKind(kind).check(config);
      expect(check).toMatchObject({ ok: false, code: refused.code });
      expect(check.message).toMatch(refused.message);
      if (refused.secret) expect(check.message).not.toContain(refused.secret);

      const { run } = await queues.runNow(connector, 'INCREMENTAL');
      const done = await runFinished(hub.pool, run.id);
      expect(done).toMatchObject({ status: 'failed', error: { code: refused.code } });
      if (refused.secret) expect(JSON.stringify(done.error)).not.toContain(refused.secret);
      const job = await queues.queue('POLICE').getJob(run.id);
      expect(job?.attemptsMade).toBe(1);
      expect(await job?.getState()).toBe('failed');
      expect(await liveRows(connector.id)).toEqual([]);
    });
  });
}
