import { GraphQLDataSourceRequestKind } from '@apollo/gateway/dist/datasources/types';
import http from 'node:http';
import { decodeIdentity, IDENTITY_HEADER, type Identity } from '../../security/identity';
import type { GatewayContext } from '../context';
import { HubDataSource, IdentityHeaderCache } from '../data-source';

/**
 * The gateway's subgraph fetch: identical queries in flight share one fetch (never mutations, never callers
 * with pii:read), each waiter gets its own parsed answer, the signed identity header is reused per caller,
 * and subgraph errors keep their HTTP status.
 */
const KEY = 'data-source-test-internal-key-0123456789';
const officer: Identity = { sub: 'u-officer', role: 'district-officer', districts: ['510104'], grids: [], scopes: [] };
const auditor: Identity = { sub: 'u-auditor', role: 'district-officer', districts: ['510104'], grids: [], scopes: ['pii:read'] };

describe('HubDataSource', () => {
  let server: http.Server;
  let url: string;
  const seen: { body: string; identity: string | undefined }[] = [];
  let status = 200;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', () => {
        seen.push({ body, identity: req.headers[IDENTITY_HEADER] as string | undefined });
        const who = decodeIdentity(req.headers[IDENTITY_HEADER] as string, KEY);
        // Answer slowly, so that concurrent fetches overlap.
        setTimeout(() => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(status === 200 ? { data: { me: { sub: who?.sub ?? null, items: [{ n: 1 }] } } } : { errors: [{ message: 'no' }] }));
        }, 50);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/graphql`;
  });
  afterAll(async () => { await new Promise((r) => server.close(r)); });
  beforeEach(() => { seen.length = 0; status = 200; });

  const fetchAs = (source: HubDataSource, identity: Identity, query = 'query Q { me { sub items { n } } }', variables: Record<string, unknown> = {}) =>
    source.process({
      kind: GraphQLDataSourceRequestKind.HEALTH_CHECK,
      request: { query, variables },
      context: { identity } as GatewayContext,
    } as never);

  it('sends identical queries in flight once and gives each waiter its own answer', async () => {
    const source = new HubDataSource({ name: 'core', url, internalKey: KEY });
    try {
      const answers = await Promise.all([fetchAs(source, officer), fetchAs(source, officer), fetchAs(source, officer)]);
      expect(seen).toHaveLength(1);
      expect(answers.map((a) => a.data)).toEqual([0, 1, 2].map(() => ({ me: { sub: 'u-officer', items: [{ n: 1 }] } })));
      // The gateway merges later fetches into these objects: waiters must not share them.
      expect(answers[0]!.data).not.toBe(answers[1]!.data);
      (answers[0]!.data as { me: { items: unknown[] } }).me.items.push({ n: 2 });
      expect((answers[1]!.data as { me: { items: unknown[] } }).me.items).toEqual([{ n: 1 }]);
      // After the answer, the next query is a new fetch.
      await fetchAs(source, officer);
      expect(seen).toHaveLength(2);
    } finally {
      source.close();
    }
  });

  it('does not share fetches between callers, variables, mutations or callers holding pii:read', async () => {
    const source = new HubDataSource({ name: 'core', url, internalKey: KEY });
    try {
      const other: Identity = { ...officer, sub: 'u-other' };
      const answers = await Promise.all([fetchAs(source, officer), fetchAs(source, other)]);
      expect(answers.map((a) => (a.data as { me: { sub: string } }).me.sub)).toEqual(['u-officer', 'u-other']);
      expect(seen).toHaveLength(2);

      seen.length = 0;
      await Promise.all([fetchAs(source, officer, 'query V($a: Int) { me { sub } }', { a: 1 }), fetchAs(source, officer, 'query V($a: Int) { me { sub } }', { a: 2 })]);
      expect(seen).toHaveLength(2);

      seen.length = 0;
      await Promise.all([fetchAs(source, auditor), fetchAs(source, auditor)]);
      expect(seen).toHaveLength(2);

      seen.length = 0;
      await Promise.all([fetchAs(source, officer, 'mutation M { me { sub } }'), fetchAs(source, officer, 'mutation M { me { sub } }')]);
      expect(seen).toHaveLength(2);
    } finally {
      source.close();
    }
  });

  it('with dedupeInflight off, every query is its own fetch', async () => {
    const source = new HubDataSource({ name: 'core', url, internalKey: KEY, dedupeInflight: false });
    try {
      await Promise.all([fetchAs(source, officer), fetchAs(source, officer)]);
      expect(seen).toHaveLength(2);
    } finally {
      source.close();
    }
  });

  it('forwards a verifiable identity header, reused for the same caller', async () => {
    const source = new HubDataSource({ name: 'core', url, internalKey: KEY });
    try {
      await fetchAs(source, officer);
      await fetchAs(source, { ...officer });
      expect(seen).toHaveLength(2);
      expect(seen[0]!.identity).toBe(seen[1]!.identity);
      expect(decodeIdentity(seen[0]!.identity, KEY)).toEqual(officer);
      expect(decodeIdentity(seen[0]!.identity, 'another-key-0123456789-0123456789')).toBeNull();
    } finally {
      source.close();
    }
  });

  it('turns an HTTP error of the subgraph into an error with its status', async () => {
    const source = new HubDataSource({ name: 'core', url, internalKey: KEY });
    try {
      status = 401;
      await expect(fetchAs(source, officer)).rejects.toMatchObject({ message: '401: Unauthorized', extensions: { code: 'UNAUTHENTICATED' } });
    } finally {
      source.close();
    }
  });
});

describe('IdentityHeaderCache', () => {
  it('signs once per caller and re-signs after the reuse period, with a fresh expiry', () => {
    const cache = new IdentityHeaderCache(KEY, 60_000);
    const t0 = Date.parse('2026-11-22T10:00:00Z');
    const first = cache.header(officer, t0);
    expect(cache.header({ ...officer }, t0 + 59_000)).toBe(first);
    expect(cache.header({ ...officer, districts: ['510105'] }, t0)).not.toBe(first);
    const later = cache.header(officer, t0 + 61_000);
    expect(later).not.toBe(first);
    const exp = (h: string) => (JSON.parse(Buffer.from(h.split('.')[0]!, 'base64url').toString('utf8')) as { exp: number }).exp;
    expect(exp(later) - exp(first)).toBe(61);
    // Never reused past the period: the header always keeps ≥ 14 of its 15 minutes.
    expect(exp(first) * 1000 - (t0 + 59_000)).toBeGreaterThanOrEqual(14 * 60_000);
  });
});
