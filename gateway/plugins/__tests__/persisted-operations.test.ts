import { introspectionEnabled, parseSafelist, persistedOperationsPlugin, sha256Hex } from '../persisted-operations';
import { testServer } from './schema';

const LISTED = 'query Hello { hello }';
const PERSON = 'query Person($id: ID!) { person(id: $id) { id name } }';
const safelist = parseSafelist(JSON.stringify({
  format: 'apollo-persisted-query-manifest', version: 1,
  operations: [{ id: 'x', name: 'Hello', type: 'query', body: LISTED }, { id: 'y', name: 'Person', type: 'query', body: PERSON }],
}));

function server(enforce: boolean, bypass?: (ctx: { admin?: boolean }) => boolean) {
  return testServer<{ admin?: boolean }>({
    persistedQueries: { cache: safelist.cache, ttl: null },
    plugins: [persistedOperationsPlugin({ safelist, enforce, ...(bypass ? { bypass } : {}) })],
  });
}

async function run(s: ReturnType<typeof server>, request: Record<string, unknown>, contextValue: { admin?: boolean } = {}) {
  const res = await s.executeOperation(request as never, { contextValue });
  const body = res.body.kind === 'single' ? res.body.singleResult : null;
  return { status: res.http.status, data: body?.data, errors: body?.errors };
}

describe('persisted operations safelist on a real @apollo/server', () => {
  const enforced = server(true);

  it('runs a listed operation sent in full or by its hash alone', async () => {
    expect(await run(enforced, { query: LISTED })).toMatchObject({ data: { hello: 'world' } });
    const byHash = await run(enforced, { variables: { id: 'p1' }, extensions: { persistedQuery: { version: 1, sha256Hash: sha256Hex(PERSON) } } });
    expect(byHash.errors).toBeUndefined();
    expect(byHash.data).toEqual({ person: { id: 'p1', name: '张三' } });
  });

  it('refuses anything else before execution, and never registers it', async () => {
    const adHoc = '{ persons(first: 5) { edges { node { idNumber } } } }';
    const refused = await run(enforced, { query: adHoc });
    expect(refused.status).toBe(403);
    expect(refused.data).toBeUndefined();
    expect(refused.errors?.[0]).toMatchObject({ extensions: { code: 'TL_ERR_FORBIDDEN', reason: 'operation_not_safelisted' } });
    // An APQ registration attempt (query + its hash) is refused too, and the hash stays unknown afterwards.
    const register = await run(enforced, { query: adHoc, extensions: { persistedQuery: { version: 1, sha256Hash: sha256Hex(adHoc) } } });
    expect(register.errors?.[0]?.extensions?.code).toBe('TL_ERR_FORBIDDEN');
    const again = await run(enforced, { extensions: { persistedQuery: { version: 1, sha256Hash: sha256Hex(adHoc) } } });
    expect(again.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    // A listed hash claimed for another text is caught by Apollo's own check.
    const mismatch = await run(enforced, { query: adHoc, extensions: { persistedQuery: { version: 1, sha256Hash: sha256Hex(LISTED) } } });
    expect(mismatch.errors?.[0]?.message).toMatch(/provided sha does not match query/);
    // Whitespace changes the hash: the listed text must be sent byte for byte.
    expect((await run(enforced, { query: `${LISTED} ` })).errors?.[0]?.extensions?.code).toBe('TL_ERR_FORBIDDEN');
  });

  it('lets a bypass through and does nothing when not enforced', async () => {
    const withBypass = server(true, (ctx) => ctx.admin === true);
    expect(await run(withBypass, { query: '{ hello }' }, { admin: true })).toMatchObject({ data: { hello: 'world' } });
    expect((await run(withBypass, { query: '{ hello }' })).errors?.[0]?.extensions?.code).toBe('TL_ERR_FORBIDDEN');
    expect(await run(server(false), { query: '{ hello }' })).toMatchObject({ data: { hello: 'world' } });
  });

  it('reads the other file formats and names a bad entry', () => {
    expect(parseSafelist(JSON.stringify([LISTED, PERSON])).size).toBe(2);
    expect(parseSafelist(JSON.stringify({ [sha256Hex(LISTED)]: LISTED })).has(sha256Hex(LISTED))).toBe(true);
    expect(() => parseSafelist(JSON.stringify({ abc: LISTED }), 'ops.json')).toThrow(/ops.json: entry abc does not match the SHA-256/);
    expect(() => parseSafelist('{', 'ops.json')).toThrow(/not valid JSON/);
    expect(() => parseSafelist(JSON.stringify({ format: 'apollo-persisted-query-manifest', operations: [{ name: 'X' }] }))).toThrow(/operation 0 \(X\) has no body/);
  });
});

describe('introspection', () => {
  it('is off in production: the server refuses __schema', async () => {
    expect(introspectionEnabled({ NODE_ENV: 'development' })).toBe(true);
    expect(introspectionEnabled({ NODE_ENV: 'production' })).toBe(false);
    const prod = testServer({ introspection: introspectionEnabled({ NODE_ENV: 'production' }) });
    const res = await prod.executeOperation({ query: '{ __schema { types { name } } }' });
    const body = res.body.kind === 'single' ? res.body.singleResult : null;
    expect(body?.data).toBeUndefined();
    expect(body?.errors?.[0]?.message).toMatch(/introspection is not allowed/);
    const dev = testServer({ introspection: true });
    const ok = await dev.executeOperation({ query: '{ __schema { queryType { name } } }' });
    expect(ok.body.kind === 'single' && ok.body.singleResult.data).toEqual({ __schema: { queryType: { name: 'Query' } } });
  });
});
