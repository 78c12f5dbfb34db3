import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTestDatabase, type TestDatabase } from '../../../test/support/db';
import { describeConformance, collectRead } from '../../conformance/suite';
import { pushKind, createPushHandler, prunePushBatches } from '..';

/** A real hub database, a connector row, and the receiver on a real HTTP server (ephemeral port). */
interface Hub {
  db: TestDatabase;
  connectorId: string;
  config: Record<string, unknown>;
  url: string;
  server: Server;
  batches: number[];
  post(stream: string, body: string, headers?: Record<string, string>): Promise<{ status: number; json: Record<string, unknown> }>;
  close(): Promise<void>;
}

const TOKEN = 'push-token-0123456789-petition';

async function startHub(): Promise<Hub> {
  const db = await createTestDatabase('push');
  const config = { token: TOKEN, streams: [{ name: 'reports', primaryKey: ['report_no'], cursorCandidates: ['updated_at'] }, { name: 'other' }], maxBatchBytes: 4096, maxRecordsPerBatch: 50 };
  const { rows } = await db.pool.query(`INSERT INTO hub.connectors (department, name, kind, config) VALUES ('PETITION', '12345 push', 'push', '{}') RETURNING id`);
  const connectorId = rows[0].id as string;
  const batches: number[] = [];
  const handler = createPushHandler({
    pool: db.pool,
    loadConnector: async (id) => (id === connectorId ? { kind: 'push', config } : null),
    onBatch: (b) => { batches.push(b.batchId); },
  });
  const server = createServer((req, res) => {
    handler(req, res).then((handled) => {
      if (!handled) { res.statusCode = 418; res.end('not push'); }
    }, () => { res.statusCode = 500; res.end(); });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    db, connectorId, config, url, server, batches,
    async post(stream, body, headers = {}) {
      const res = await fetch(`${url}/push/${connectorId}/${stream}`, { method: 'POST', body, headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, ...headers } });
      return { status: res.status, json: (await res.json().catch(() => ({}))) as Record<string, unknown> };
    },
    async close() {
      await new Promise<void>((r) => server.close(() => r()));
      await db.drop();
    },
  };
}

interface Report { report_no: string; reporter: string; address: string; content: string; updated_at: string }
const report = (i: number, content = '反映噪音扰民'): Report => ({
  report_no: `12345-${String(i).padStart(4, '0')}`,
  reporter: ['周杰', '郑秀文', '孙悟空', '东方不败'][i % 4]!,
  address: `成都市高新区桂溪街道天府大道北段${i}号`,
  content,
  updated_at: new Date(Date.UTC(2026, 10, 20, 8, i)).toISOString(),
});

describeConformance('push', async () => {
  const hub = await startHub();
  const latest = new Map<string, Report>();
  const send = async (records: Report[]) => {
    const r = await hub.post('reports', JSON.stringify(records));
    if (r.status !== 202) throw new Error(`push failed: ${r.status} ${JSON.stringify(r.json)}`);
    for (const x of records) latest.set(x.report_no, x);
  };
  for (let b = 0; b < 3; b++) await send([0, 1, 2, 3].map((i) => report(b * 4 + i)));
  const context = { pool: hub.db.pool, connectorId: hub.connectorId };
  return {
    kind: pushKind,
    goodConfig: hub.config,
    badConfigs: [
      { config: { ...hub.config, token: 'short' }, field: 'token' },
      { config: { token: TOKEN }, field: 'streams' },
      { config: { ...hub.config, streams: [{ name: 'bad name!' }] }, field: 'streams.0.name' },
    ],
    wrongAuth: {
      async probe() {
        const r = await hub.post('reports', JSON.stringify([report(99)]), { authorization: 'Bearer push-token-0123456789-petitioX' });
        expect(r.status).toBe(401);
        return (r.json.error ?? {}) as { code?: string };
      },
    },
    secretFields: ['token'],
    stream: { name: 'reports', primaryKey: ['report_no'] },
    context,
    compareFields: ['report_no', 'reporter', 'address', 'content', 'updated_at'],
    keyOf: (d) => String(d.report_no),
    sourceRows: async () => [...latest.values()] as unknown as Record<string, unknown>[],
    async mutate() {
      const changed = [report(1, '已处理：噪音扰民'), report(6, '补充材料'), report(100, '新诉求：路灯损坏')];
      await send(changed);
      return { changedKeys: changed.map((r) => r.report_no) };
    },
    cleanup: () => hub.close(),
  };
});

describe('push receiver', () => {
  let hub: Hub;
  beforeAll(async () => {
    hub = await startHub();
  });
  afterAll(() => hub.close());
  const count = async () => Number((await hub.db.pool.query('SELECT count(*) AS n FROM hub.push_batches')).rows[0].n);

  test('the same batch re-sent with its Idempotency-Key is stored once; the key reused for another body is a conflict', async () => {
    const body = JSON.stringify([report(1)]);
    const first = await hub.post('other', body, { 'idempotency-key': 'batch-0001' });
    const again = await hub.post('other', body, { 'idempotency-key': 'batch-0001' });
    expect(first).toMatchObject({ status: 202, json: { duplicate: false, records: 1 } });
    expect(again).toMatchObject({ status: 200, json: { duplicate: true, batchId: first.json.batchId } });
    const conflict = await hub.post('other', JSON.stringify([report(2)]), { 'idempotency-key': 'batch-0001' });
    expect(conflict).toMatchObject({ status: 409, json: { error: { code: 'TL_ERR_CONFLICT' } } });
    // Without a key, the body's hash is the key.
    const body2 = JSON.stringify([report(3)]);
    expect((await hub.post('other', body2)).status).toBe(202);
    expect((await hub.post('other', body2)).status).toBe(200);
    expect(hub.batches).toHaveLength(2);
  });

  test('NDJSON batches; a malformed line is refused with its line number, nothing stored', async () => {
    const before = await count();
    const ok = await hub.post('other', `${JSON.stringify(report(10))}\n${JSON.stringify(report(11))}\n`, { 'content-type': 'application/x-ndjson' });
    expect(ok).toMatchObject({ status: 202, json: { records: 2 } });
    const bad = await hub.post('other', `${JSON.stringify(report(12))}\n{"report_no": "x",\n`, { 'content-type': 'application/x-ndjson' });
    expect(bad.status).toBe(400);
    expect(String((bad.json.error as { message: string }).message)).toContain('line 2');
    expect(await count()).toBe(before + 1);
  });

  test('limits, auth, routing and content type', async () => {
    const big = JSON.stringify(Array.from({ length: 40 }, (_, i) => report(i)));
    expect((await hub.post('other', big)).status).toBe(413); // > 4096 bytes
    expect((await hub.post('other', JSON.stringify(Array.from({ length: 51 }, () => ({})))))).toMatchObject({ status: 413 });
    expect((await hub.post('other', '[]')).status).toBe(400);
    expect((await hub.post('other', JSON.stringify([report(1)]), { authorization: '' })).status).toBe(401);
    expect((await hub.post('other', JSON.stringify([report(1)]), { authorization: '', 'x-push-token': TOKEN })).status).toBe(202);
    expect((await hub.post('nope', JSON.stringify([report(1)]))).status).toBe(404);
    expect((await hub.post('other', 'a=1', { 'content-type': 'text/plain' })).status).toBe(415);
    const wrongConnector = await fetch(`${hub.url}/push/00000000-0000-4000-8000-000000000000/other`, { method: 'POST', body: '[]', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' } });
    expect(wrongConnector.status).toBe(404);
    expect((await fetch(`${hub.url}/push/${hub.connectorId}/other`)).status).toBe(405);
    expect((await fetch(`${hub.url}/elsewhere`)).status).toBe(418); // not ours: the handler passes
  });

  test('records that are not objects are read with an error marker; batches concurrently posted are all read in order', async () => {
    const context = { pool: hub.db.pool, connectorId: hub.connectorId };
    const start = await collectRead(pushKind, hub.config, { stream: { name: 'reports', primaryKey: ['report_no'] }, mode: 'INCREMENTAL', state: null, context });
    const posts = await Promise.all(Array.from({ length: 8 }, (_, i) => hub.post('reports', JSON.stringify([report(200 + i), ...(i === 3 ? ['不是对象'] : [])]))));
    expect(posts.every((p) => p.status === 202)).toBe(true);
    const read = await collectRead(pushKind, hub.config, { stream: { name: 'reports', primaryKey: ['report_no'] }, mode: 'INCREMENTAL', state: start.lastState, context });
    expect(read.records).toHaveLength(9);
    expect(read.records.filter((r) => r.error)).toHaveLength(1);
    expect(read.records.find((r) => r.error)!.error!.raw).toBe('"不是对象"');
    const ids = read.states.map((s) => (s as { lastBatchId: number }).lastBatchId);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    expect(ids).toHaveLength(8);
    expect(await prunePushBatches(hub.db.pool, { connectorId: hub.connectorId, stream: 'reports', throughBatchId: ids[3]! })).toBe(4);
    const after = await collectRead(pushKind, hub.config, { stream: { name: 'reports', primaryKey: ['report_no'] }, mode: 'FULL_REFRESH', state: null, context });
    expect(after.records).toHaveLength(read.records.filter((r) => Number(r.meta!.batchId) > ids[3]!).length);
    expect(after.records.every((r) => Number(r.meta!.batchId) > ids[3]!)).toBe(true);
  });

  test('read without the hub context is a system error naming what is missing', async () => {
    await expect(collectRead(pushKind, hub.config, { stream: { name: 'reports', primaryKey: [] }, mode: 'FULL_REFRESH', state: null }))
      .rejects.toMatchObject({ code: 'TL_ERR_CONNECTOR_SYSTEM', message: expect.stringContaining('pool') });
  });
});
