import { buildSchema, parse, specifiedRules, validate } from 'graphql';
import { checkQueryLimits, DEFAULT_QUERY_LIMITS, limitsFromConfig, queryLimitsPlugin, queryLimitsRule, type QueryLimits } from '../query-limits';
import { testServer, typeDefs } from './schema';

const limits: QueryLimits = { ...DEFAULT_QUERY_LIMITS, maxDepth: 10, maxAliases: 5, maxRootFields: 4, maxCost: 2000, maxPageSize: 100, maxFields: 300 };
const schema = buildSchema(typeDefs);

async function run(query: string, variables?: Record<string, unknown>) {
  let executed = false;
  const probe = { async requestDidStart() { return { async executionDidStart() { executed = true; } }; } };
  const probed = testServer({ plugins: [queryLimitsPlugin(limits), probe] });
  const res = await probed.executeOperation({ query, ...(variables ? { variables } : {}) });
  const body = res.body.kind === 'single' ? res.body.singleResult : null;
  return { status: res.http.status, errors: body?.errors, data: body?.data, executed };
}

describe('query limits on a real @apollo/server', () => {
  it('lets an ordinary query through', async () => {
    const r = await run(`{ persons(first: 20) { totalCount edges { node { id name events(first: 10) { edges { node { title } } } grid { name parent { name } } } } } }`);
    expect(r.errors).toBeUndefined();
    expect(r.executed).toBe(true);
    expect((r.data as { persons: { totalCount: number } }).persons.totalCount).toBe(20);
  });

  it('refuses a depth bomb before execution, naming the limit', async () => {
    const deep = `{ grid(code: "510104") { ${'parent { '.repeat(10)} name ${'} '.repeat(10)} } }`;
    const r = await run(deep);
    expect(r.executed).toBe(false);
    expect(r.status).toBe(400);
    expect(r.data).toBeUndefined();
    expect(r.errors?.[0]).toMatchObject({ extensions: { code: 'TL_ERR_QUERY_TOO_COMPLEX', limit: 'depth', value: 11, max: 10 } });
    expect(r.errors?.[0]?.message).toMatch(/depth 11 exceeds the limit of 10 \(at grid\.parent\.parent/);
  });

  it('counts depth through fragments', async () => {
    const q = `query { grid(code: "1") { ...A } } fragment A on Grid { parent { ...B } } fragment B on Grid { parent { parent { parent { parent { parent { parent { parent { parent { parent { name } } } } } } } } } }`;
    expect((await run(q)).errors?.[0]?.extensions).toMatchObject({ limit: 'depth' });
  });

  it('refuses an alias bomb', async () => {
    const q = `{ ${Array.from({ length: 3 }, (_, i) => `p${i}: person(id: "${i}") { a: name b: name }`).join(' ')} }`;
    const r = await run(q);
    expect(r.executed).toBe(false);
    expect(r.errors?.[0]).toMatchObject({ extensions: { limit: 'aliases', max: 5 } });
  });

  it('refuses too many root fields', async () => {
    const r = await run(`{ hello person(id: "1") { id } grid(code: "1") { code } persons { totalCount } __typename }`);
    expect(r.errors?.[0]).toMatchObject({ extensions: { limit: 'rootFields', value: 5, max: 4 } });
  });

  it("exempts the hub's own operations (bypass) and only those", async () => {
    let executed = 0;
    const probe = { async requestDidStart() { return { async executionDidStart() { executed += 1; } }; } };
    const server = testServer<{ internal?: boolean }>({ plugins: [queryLimitsPlugin<{ internal?: boolean }>(limits, { bypass: (ctx) => ctx.internal === true }), probe] });
    const batch = `{ ${Array.from({ length: 16 }, (_, i) => `p${i}: person(id: "${i}") { id }`).join(' ')} }`;
    const internal = await server.executeOperation({ query: batch }, { contextValue: { internal: true } });
    expect(internal.body.kind === 'single' && internal.body.singleResult.errors).toBeFalsy();
    const client = await server.executeOperation({ query: batch }, { contextValue: {} });
    expect(client.body.kind === 'single' && client.body.singleResult.errors?.[0]?.extensions).toMatchObject({ code: 'TL_ERR_QUERY_TOO_COMPLEX' });
    expect(executed).toBe(1);
  });

  it('multiplies list sizes into the cost, with variables resolved', async () => {
    const q = `query Q($n: Int!, $m: Int = 50) { persons(first: $n) { edges { node { events(first: $m) { edges { node { participants { person { name } } } } } } } } }`;
    // 10 persons × 50 events × 10 participants (default list size) ≈ 5,000+ > 2,000
    const big = await run(q, { n: 10 });
    expect(big.executed).toBe(false);
    expect(big.errors?.[0]).toMatchObject({ extensions: { code: 'TL_ERR_QUERY_TOO_COMPLEX', limit: 'cost', max: 2000 } });
    expect(big.errors?.[0]?.message).toMatch(/list sizes multiply: persons×10 × events×50 × participants×10/);
    const small = await run(q, { n: 2, m: 5 });
    expect(small.errors).toBeUndefined();
    expect(small.executed).toBe(true);
  });

  it('refuses a page larger than the page limit', async () => {
    const r = await run(`{ persons(first: 100000) { totalCount } }`);
    expect(r.errors?.[0]).toMatchObject({ extensions: { limit: 'pageSize', value: 100000, max: 100 } });
    expect(r.errors?.[0]?.message).toMatch(/first: 100000 on persons exceeds the page limit of 100/);
  });

  it('bounds fragment bombs by the expanded size, cheaply', async () => {
    const frags = Array.from({ length: 25 }, (_, i) => `fragment F${i} on Grid { ...F${i + 1} ...F${i + 1} }`).join('\n');
    const q = `{ grid(code: "1") { ...F0 } }\n${frags}\nfragment F25 on Grid { name }`;
    const started = Date.now();
    const r = await run(q);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(r.executed).toBe(false);
    expect(r.errors?.[0]).toMatchObject({ extensions: { limit: 'fields', max: 300 } });
  });

  it('is also available as a validation rule and a plain check', () => {
    const doc = parse(`{ grid(code: "1") { ${'parent { '.repeat(10)} name ${'} '.repeat(10)} } }`);
    expect(checkQueryLimits(schema, doc, undefined, undefined, limits)?.extensions).toMatchObject({ limit: 'depth' });
    expect(checkQueryLimits(schema, parse('{ hello }'), undefined, undefined, limits)).toBeNull();
    const errors = validate(schema, doc, [...specifiedRules, queryLimitsRule(limits)]);
    expect(errors.map((e) => e.extensions)).toEqual([expect.objectContaining({ code: 'TL_ERR_QUERY_TOO_COMPLEX', limit: 'depth' })]);
    expect(validate(schema, parse('{ persons(first: 5) { totalCount } }'), [...specifiedRules, queryLimitsRule(limits)])).toEqual([]);
  });

  it('reads limits from configuration', () => {
    expect(limitsFromConfig({ QUERY_MAX_DEPTH: 7, QUERY_MAX_COST: 100 })).toMatchObject({ maxDepth: 7, maxCost: 100, maxAliases: DEFAULT_QUERY_LIMITS.maxAliases });
  });
});
