import { describeConformance, collectRead } from '../../conformance/suite';
import type { StreamConfig } from '../../contract';
import { httpKind } from '..';
import { backoffDelay, parseRetryAfter } from '../request';
import { petitionRows, startPetitionApi, type PetitionApi } from './petition-api';

const LOOKBACK = 60;

function configFor(api: PetitionApi, overrides: Record<string, unknown> = {}) {
  return {
    baseUrl: api.url,
    auth: { type: 'bearer', token: api.token },
    pagination: { type: 'page', pageSize: 6 },
    streams: [{ name: 'petitions', path: '/api/petitions', recordsPath: 'data.items', primaryKey: ['id'], cursorField: 'updated_at' }],
    requestsPerSecond: 500,
    retryBaseMs: 5,
    maxRetries: 4,
    ...overrides,
  };
}

describeConformance('http', async () => {
  const api = await startPetitionApi(petitionRows(23));
  api.chaos(5, 7); // every 5th request a 429, every 7th a 500: the reads must ride through them
  const good = configFor(api);
  const stream: StreamConfig = { name: 'petitions', primaryKey: ['id'], cursorField: 'updated_at', lookbackSeconds: LOOKBACK };
  return {
    kind: httpKind,
    goodConfig: good,
    badConfigs: [
      { config: { ...good, baseUrl: 'not a url' }, field: 'baseUrl' },
      { config: { ...good, auth: { type: 'bearer' } }, field: 'auth.token' },
      { config: { ...good, streams: [] }, field: 'streams' },
      { config: { ...good, streams: [{ name: 'x', path: '/api/nothing-here' }] }, field: '404' },
      { config: { ...good, streams: [{ name: 'x', path: '/api/broken' }] }, field: 'unknown parameter pageSize' },
    ],
    wrongAuth: { config: { ...good, auth: { type: 'bearer', token: 'wrong' } } },
    secretFields: ['auth.token', 'auth.password'],
    stream,
    compareFields: ['id', 'petitioner', 'address', 'title', 'updated_at'],
    keyOf: (d) => String(d.id),
    sourceRows: async () => api.rows.map((r) => ({ ...r })),
    async mutate() {
      const now = new Date().toISOString();
      for (const r of api.rows.filter((x) => ['XF202600003', 'XF202600011'].includes(x.id))) Object.assign(r, { title: '已受理：' + r.title, updated_at: now });
      api.rows.push({ id: 'XF202699999', petitioner: '司马相如', address: '成都市青羊区琴台路1号', title: '噪音扰民', updated_at: now });
      return { changedKeys: ['XF202600003', 'XF202600011', 'XF202699999'] };
    },
    duplicateAllowed: (data, state) => Date.parse(String(data.updated_at)) >= Date.parse(String((state as { cursor: string }).cursor)) - LOOKBACK * 1000,
    cleanup: () => api.close(),
  };
});

describe('http specifics', () => {
  let api: PetitionApi;
  beforeAll(async () => {
    api = await startPetitionApi(petitionRows(23));
  });
  afterAll(() => api.close());
  beforeEach(() => {
    api.requests.length = 0;
  });
  const stream = { name: 'petitions', primaryKey: ['id'], cursorField: 'updated_at' };

  test.each([
    ['offset', { type: 'offset', pageSize: 5 }],
    ['cursor token', { type: 'cursor', pageSize: 5, sizeParam: 'limit', initialCursor: '', hasMorePath: 'has_more' }],
    ['page', { type: 'page', pageSize: 5 }],
  ])('%s pagination reads every record once', async (_label, pagination) => {
    const read = await collectRead(httpKind, configFor(api, { pagination }), { stream, mode: 'FULL_REFRESH', state: null });
    expect(read.records.map((r) => r.data.id)).toEqual(api.rows.map((r) => r.id));
    expect(read.records[5]!.data.petitioner).toBe('欧阳修');
    expect(api.requests.length).toBe(5);
  });

  test('honours Retry-After on 429 and retries 5xx with backoff', async () => {
    api.inject([{ status: 429, retryAfter: '1' }, { status: 503 }, { status: 502 }]);
    const started = Date.now();
    const read = await collectRead(httpKind, configFor(api, { pagination: { type: 'none' } }), { stream, mode: 'FULL_REFRESH', state: null });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(read.records.length).toBe(20);
    expect(api.requests.map((r) => r.status)).toEqual([429, 503, 502, 200]);
  });

  test('gives up after maxRetries with a transient error; a Retry-After beyond maxRetryDelayMs fails at once', async () => {
    api.inject([{ status: 500 }, { status: 500 }, { status: 500 }]);
    await expect(collectRead(httpKind, configFor(api, { maxRetries: 2 }), { stream, mode: 'FULL_REFRESH', state: null }))
      .rejects.toMatchObject({ code: 'TL_ERR_CONNECTOR_TRANSIENT', message: expect.stringContaining('after 3 attempts') });
    api.inject([{ status: 429, retryAfter: '3600' }]);
    await expect(collectRead(httpKind, configFor(api), { stream, mode: 'FULL_REFRESH', state: null }))
      .rejects.toMatchObject({ code: 'TL_ERR_CONNECTOR_TRANSIENT', message: expect.stringContaining('Retry-After') });
  });

  test('a 4xx is a configuration error at once (no retry); 401 is an auth error', async () => {
    const result = await httpKind.check(configFor(api, { streams: [{ name: 'b', path: '/api/broken' }] }));
    expect(result).toMatchObject({ ok: false, code: 'TL_ERR_CONNECTOR_CONFIG' });
    expect(api.requests).toHaveLength(1);
    expect(await httpKind.check(configFor(api, { auth: { type: 'none' } }))).toMatchObject({ ok: false, code: 'TL_ERR_CONNECTOR_AUTH' });
  });

  test('rate limit spaces the requests', async () => {
    const started = Date.now();
    await collectRead(httpKind, configFor(api, { requestsPerSecond: 10, pagination: { type: 'page', pageSize: 4 } }), { stream, mode: 'FULL_REFRESH', state: null });
    expect(api.requests.length).toBe(6);
    expect(Date.now() - started).toBeGreaterThanOrEqual(450); // 6 requests at 10/s: >= 5 gaps of 100 ms
  });

  test('sends updated_since stepped back by the look-back window', async () => {
    const state = { cursor: '2026-01-01T00:10:00.000Z' };
    const read = await collectRead(httpKind, configFor(api), { stream: { ...stream, lookbackSeconds: 120 }, mode: 'INCREMENTAL', state });
    expect(api.requests[0]!.path).toContain(`updated_since=${encodeURIComponent('2026-01-01T00:08:00.000Z')}`);
    expect(read.records.every((r) => Date.parse(String(r.data.updated_at)) >= Date.parse('2026-01-01T00:08:00Z'))).toBe(true);
  });

  test('records that are not objects are reported with an error marker, not dropped', async () => {
    const { createServer } = await import('node:http');
    const server = createServer((_req, res) => { res.end(JSON.stringify({ data: [{ id: 1 }, 'oops', { id: 2 }] })); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const read = await collectRead(httpKind, { baseUrl: `http://127.0.0.1:${port}`, pagination: { type: 'none' }, streams: [{ name: 's', path: '/' }] }, { stream: { name: 's', primaryKey: ['id'] }, mode: 'FULL_REFRESH', state: null });
      expect(read.records).toHaveLength(3);
      expect(read.records[1]!.error).toMatchObject({ reason: expect.stringContaining('not a JSON object'), raw: '"oops"' });
    } finally {
      server.close();
    }
  });

  test('backoff and Retry-After parsing', () => {
    expect(parseRetryAfter('2')).toBe(2000);
    expect(parseRetryAfter(new Date(Date.now() + 5000).toUTCString())).toBeGreaterThan(3000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    for (let a = 0; a < 5; a++) {
      const d = backoffDelay(a, 100, 1000);
      expect(d).toBeGreaterThanOrEqual(Math.min(1000, 100 * 2 ** a) / 2);
      expect(d).toBeLessThanOrEqual(Math.min(1000, 100 * 2 ** a));
    }
  });
});
