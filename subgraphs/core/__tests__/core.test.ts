import { createTestDatabase, type TestDatabase } from '../../../test/support/db';
import { GRIDS, loadGraphFixture, type GraphFixture } from '../../../test/fixtures/graph';
import { createSubgraphServer, type SubgraphServer } from '../../shared/create-subgraph-server';
import { identityOf, postGraphQL, TEST_CONFIG } from '../../shared/testing';
import { coreSubgraph } from '../server';

describe('core subgraph', () => {
  let db: TestDatabase;
  let fx: GraphFixture;
  let server: SubgraphServer;
  let url: string;
  const admin = identityOf({ role: 'city-admin' });

  beforeAll(async () => {
    db = await createTestDatabase('core');
    fx = await loadGraphFixture(db.pool);
    server = await createSubgraphServer(coreSubgraph, { config: TEST_CONFIG, databaseUrl: db.url });
    url = await server.listen(0);
  });
  afterAll(async () => { await server?.close(); await db?.drop(); });

  it('answers nothing without a signed identity', async () => {
    const res = await postGraphQL(url, '{ persons { totalCount } }');
    expect(res.status).toBe(401);
    expect(res.data).toBeNull();
    expect(res.errors?.[0]?.extensions?.code).toBe('TL_ERR_UNAUTHENTICATED');
  });

  it('finds a person by id, masked without pii:read, and links residence, grid and provenance', async () => {
    const res = await postGraphQL(url, `query($n: ID) { person(id: $n) {
      id name idNumber phone flags residence { address grid { code name } } grid { code level parent { code name } }
      sourceRecords { department sourceTable recordKey method } } }`, { n: fx.persons.zhang.id }, admin);
    expect(res.errors).toBeUndefined();
    const p = res.data.person;
    expect(p.id).toBe(fx.persons.zhang.id);
    expect(p.name).toBe('张建国');
    expect(p.idNumber).toBe(`${fx.persons.zhang.idNumber.slice(0, 6)}********${fx.persons.zhang.idNumber.slice(14)}`);
    expect(p.phone).toBe('138****1234');
    expect(p.flags).toBeNull();
    expect(p.residence.grid).toEqual({ code: GRIDS.g1, name: '观音桥社区第一网格' });
    expect(p.grid).toMatchObject({ code: GRIDS.g1, level: 'GRID', parent: { code: GRIDS.guanyinqiao, name: '观音桥社区' } });
    const departments = new Set(p.sourceRecords.map((r: { department: string }) => r.department));
    expect([...departments].sort()).toEqual(['CIVIL_AFFAIRS', 'JUSTICE', 'PETITION', 'POLICE']);
  });

  it('returns unmasked values with pii:read and writes one audit entry naming the person and fields', async () => {
    const reader = identityOf({ role: 'city-admin', sub: 'auditor-check', scopes: ['pii:read'] });
    const res = await postGraphQL(url, `query Lookup($id: ID) { person(id: $id) { idNumber phone flags } }`, { id: fx.persons.zhang.id }, reader);
    expect(res.data.person).toEqual({ idNumber: fx.persons.zhang.idNumber, phone: '13808001234', flags: ['dibao'] });
    const { rows } = await db.pool.query(`SELECT kind, persons, fields FROM hub.audit_log WHERE actor = 'auditor-check'`);
    expect(rows).toEqual([{ kind: 'pii_read', persons: [fx.persons.zhang.id], fields: ['Person.flags', 'Person.idNumber', 'Person.phone'] }]);
  });

  it('withholds unmasked data when the audit log cannot record the read (fail-closed)', async () => {
    const failing = await createSubgraphServer(coreSubgraph, { config: TEST_CONFIG, databaseUrl: db.url, audit: { record: () => Promise.reject(new Error('audit down')) } });
    try {
      const failingUrl = await failing.listen(0);
      const reader = identityOf({ role: 'city-admin', scopes: ['pii:read'] });
      const res = await postGraphQL(failingUrl, `query($id: ID) { person(id: $id) { idNumber } }`, { id: fx.persons.zhang.id }, reader);
      expect(res.data).toBeNull();
      expect(res.errors?.[0]?.extensions?.code).toBe('TL_ERR_DEPENDENCY_DOWN');
      // Masked reads need no audit entry and still work.
      const masked = await postGraphQL(failingUrl, `query($id: ID) { person(id: $id) { idNumber } }`, { id: fx.persons.zhang.id }, admin);
      expect(masked.data.person.idNumber).toMatch(/\*{8}/);
    } finally {
      await failing.close();
    }
  });

  it('confines a grid worker to their grid in lists, counts and statistics', async () => {
    const worker = identityOf({ role: 'grid-worker', grids: [GRIDS.g2] });
    const res = await postGraphQL(url, `{ persons { totalCount edges { node { name } } }
      events { totalCount edges { node { title grid { code } } } }
      eventStats(groupBy: [GRID]) { key count } zhang: person(id: "${fx.persons.zhang.id}") { name } }`, {}, worker);
    expect(res.errors).toBeUndefined();
    expect(res.data.persons.edges.map((e: { node: { name: string } }) => e.node.name)).toEqual(['李秀英']);
    expect(res.data.persons.totalCount).toBe(1);
    expect(res.data.events.totalCount).toBe(1);
    expect(res.data.events.edges[0].node.grid.code).toBe(GRIDS.g2);
    expect(res.data.eventStats).toEqual([{ key: [GRIDS.g2], count: 1 }]);
    expect(res.data.zhang).toBeNull();
  });

  it('pages events with cursors and matches SQL for a grid and its descendants', async () => {
    const first = await postGraphQL(url, `query($g: String) { events(filter: { gridCode: $g }, first: 2) {
      totalCount pageInfo { hasNextPage endCursor } edges { node { id occurredAt } } } }`, { g: GRIDS.donghu }, admin);
    const { rows } = await db.pool.query(`SELECT id FROM core.events WHERE grid_code LIKE $1 ORDER BY occurred_at DESC, id DESC`, [`${GRIDS.donghu}%`]);
    expect(first.data.events.totalCount).toBe(rows.length);
    expect(first.data.events.pageInfo.hasNextPage).toBe(true);
    const second = await postGraphQL(url, `query($g: String, $a: String) { events(filter: { gridCode: $g }, first: 100, after: $a) {
      pageInfo { hasNextPage hasPreviousPage } edges { node { id } } } }`, { g: GRIDS.donghu, a: first.data.events.pageInfo.endCursor }, admin);
    const ids = [...first.data.events.edges, ...second.data.events.edges].map((e: { node: { id: string } }) => e.node.id);
    expect(ids).toEqual(rows.map((r) => r.id));
    expect(second.data.events.pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: true });
  });

  it('computes eventStats by category and status equal to SQL, with closure rates', async () => {
    const res = await postGraphQL(url, `{ eventStats(groupBy: [DEPARTMENT, STATUS]) { key count closed closureRate }
      total: eventStats(groupBy: []) { count closed closureRate } }`, {}, admin);
    const { rows } = await db.pool.query(`SELECT department, upper(status) AS status, count(*)::int AS n,
      count(*) FILTER (WHERE status IN ('closed','evaluated'))::int AS closed FROM core.events GROUP BY 1, 2 ORDER BY 1, 2`);
    expect(res.data.eventStats).toEqual(rows.map((r) => ({ key: [r.department, r.status], count: r.n, closed: r.closed, closureRate: r.closed / r.n })));
    expect(res.data.total).toEqual([{ count: 7, closed: 3, closureRate: 3 / 7 }]);
  });

  it('filters by category subtree, and rejects bad input with a coded error', async () => {
    const res = await postGraphQL(url, `{ events(filter: { categoryCodes: ["01"] }) { totalCount edges { node { category { code name parent { code } } } } } }`, {}, admin);
    expect(res.data.events.totalCount).toBe(3);
    expect(res.data.events.edges.every((e: { node: { category: { code: string } } }) => e.node.category.code.startsWith('01'))).toBe(true);
    const bad = await postGraphQL(url, `{ events(filter: { from: "yesterday" }) { totalCount } }`, {}, admin);
    expect(bad.errors?.[0]?.extensions?.code).toBe('TL_ERR_BAD_USER_INPUT');
    expect(bad.errors?.[0]?.message).toMatch(/filter.from/);
  });

  it('serves the grid hierarchy and the category tree', async () => {
    const res = await postGraphQL(url, `{ grid(code: "${GRIDS.donghu}") { name level parent { code } children { code name } path }
      eventCategories { code name department } }`, {}, admin);
    expect(res.data.grid).toEqual({ name: '东湖街道', level: 'STREET', parent: { code: GRIDS.jinjiang },
      children: [{ code: GRIDS.guanyinqiao, name: '观音桥社区' }, { code: GRIDS.dongyi, name: '东怡社区' }], path: ['5101', '510104', '510104018'] });
    expect(res.data.eventCategories).toHaveLength(11);
    expect(res.data.eventCategories[0]).toEqual({ code: '01', name: '矛盾纠纷', department: 'JUSTICE' });
  });

  it('resolves entity references through _entities, one statement per type', async () => {
    const res = await postGraphQL(url, `query($r: [_Any!]!) { _entities(representations: $r) { ... on Person { name } ... on Grid { name } } }`,
      { r: [{ __typename: 'Person', id: fx.persons.li.id }, { __typename: 'Person', id: fx.persons.zhao.id }, { __typename: 'Grid', code: GRIDS.g4 }] }, admin);
    expect(res.data._entities).toEqual([{ name: '李秀英' }, { name: '赵桂兰' }, { name: '八宝街社区第一网格' }]);
  });
});
