import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GRIDS } from '../../test/fixtures/graph';
import { createGatewayServer } from '../server';
import { OutboxRelay } from '../../events/relay/outbox-relay';
import { commitOutbox, waitFor } from '../../events/testing/outbox-fixtures';
import { subscribeChanges } from '../../events/testing/ws-client';
import { createLogger } from '../../platform/logger';
import { createRedis } from '../../platform/redis';
import { TEST_REDIS_URL } from '../../test/support/services';
import { startGraphStack, type GraphStack } from '../../test/fixtures/graph-stack';

/**
 * The unified graph end to end: real PostgreSQL with the graph fixture, the five subgraphs and the gateway
 * in-process on ephemeral ports, queried over HTTP with signed JWTs.
 */
const PERSON_WITH_EVERYTHING = `
  id name idNumber phone
  residence { address grid { code name parent { name } } }
  household { householdNo relationToHead idNumber }
  policeIncidents { incidentNo summary status reporterPhone event { id status } }
  mediationCases { caseNo disputeType status level mediationOrg }
  correction { correctionType status }
  civilHousehold { householdNo memberCount }
  subsidies { subsidyNo kind amount periodStart }
  careServices { serviceNo provider }
  petitions { petitionNo subject status steps { step org } }
  sourceRecords { department sourceTable recordKey syncedAt }
  events(first: 10) { totalCount edges { node { kind title status department } } }`;

describe('gateway: the unified people-place-event graph', () => {
  let stack: GraphStack;
  let admin: string;

  beforeAll(async () => {
    stack = await startGraphStack({ extraPersons: 100, label: 'gateway' });
    admin = await stack.token({ role: 'city-admin', sub: 'city-admin-1' });
  });
  afterAll(async () => { await stack?.stop(); });

  it('answers one query by ID number with data from all five subgraphs', async () => {
    // A lookup by ID number is itself a use of the number: it needs pii:read (test/e2e/security-roles.test.ts).
    const piiAdmin = await stack.token({ role: 'city-admin', sub: 'city-admin-pii', scope: 'pii:read' });
    const res = await stack.query(`query ByIdNumber($n: String) { person(idNumber: $n) { ${PERSON_WITH_EVERYTHING} } }`,
      { n: stack.fixture.persons.zhang.idNumber }, piiAdmin);
    expect(res.status).toBe(200);
    expect(res.errors).toBeUndefined();
    const p = res.data.person;
    expect(p.name).toBe('张建国');
    expect(p.residence.grid).toEqual({ code: GRIDS.g1, name: '观音桥社区第一网格', parent: { name: '观音桥社区' } });
    expect(p.household).toMatchObject({ householdNo: 'HK510104-0031', relationToHead: '户主' });
    expect(p.household.idNumber).toBe(stack.fixture.persons.zhang.idNumber);
    expect(p.policeIncidents).toEqual([expect.objectContaining({ incidentNo: 'JQ202610030017', status: '已办结', reporterPhone: '13808001234',
      event: { id: stack.fixture.events.e1, status: 'CLOSED' } })]);
    expect(p.mediationCases).toEqual([expect.objectContaining({ caseNo: '(2026)锦东调字第118号', level: 'village' })]);
    expect(p.correction).toBeNull();
    // The soft-deleted 2025 subsidy is not served.
    expect(p.subsidies).toEqual([{ subsidyNo: 'DB2026-510104-0088', kind: 'dibao', amount: 1380, periodStart: '2026-01-01' }]);
    expect(p.civilHousehold).toEqual({ householdNo: 'MZ510104-2019-0088', memberCount: 3 });
    expect(p.petitions).toEqual([expect.objectContaining({ petitionNo: 'XF2026102000123', steps: [{ step: '受理', org: '锦江区信访局' }, { step: '交办', org: '东湖街道办事处' }] })]);
    expect(p.events.totalCount).toBe(3);
    expect(p.events.edges.map((e: { node: { kind: string } }) => e.node.kind)).toEqual(['petition', 'mediation_case', 'police_incident']);
    expect(new Set(p.sourceRecords.map((r: { department: string }) => r.department))).toEqual(new Set(['POLICE', 'JUSTICE', 'CIVIL_AFFAIRS', 'PETITION']));
  });

  it('shows sensitive fields only with pii:read and audits the read', async () => {
    const reader = await stack.token({ role: 'city-admin', sub: 'pii-reader', scope: 'pii:read' });
    const res = await stack.query(`query Check($id: ID) { person(id: $id) { idNumber correction { correctionType crime } household { idNumber } } }`,
      { id: stack.fixture.persons.wang.id }, reader);
    expect(res.errors).toBeUndefined();
    expect(res.data.person).toEqual({ idNumber: stack.fixture.persons.wang.idNumber, correction: { correctionType: '缓刑', crime: '危险驾驶罪' },
      household: { idNumber: stack.fixture.persons.wang.idNumber } });
    const { rows } = await stack.db.pool.query(`SELECT operation, fields, detail->>'subgraph' AS subgraph FROM hub.audit_log WHERE actor = 'pii-reader' ORDER BY 3`);
    expect(rows).toEqual([
      { operation: 'Check', fields: ['Person.idNumber'], subgraph: 'core' },
      { operation: 'Check', fields: ['Correction.correctionType', 'Correction.crime', 'Person.correction'], subgraph: 'justice' },
      { operation: 'Check', fields: ['HouseholdRegistration.idNumber'], subgraph: 'police' },
    ]);
  });

  it('pages a grid\'s events and counts them as SQL does', async () => {
    const res = await stack.query(`query($g: String!) { grid(code: $g) { name events(first: 2) { totalCount pageInfo { hasNextPage }
        edges { node { id title status participants { role person { name } } } } } } }`, { g: GRIDS.guanyinqiao }, admin);
    expect(res.errors).toBeUndefined();
    const { rows } = await stack.db.pool.query(`SELECT id FROM core.events WHERE grid_code LIKE $1 ORDER BY occurred_at DESC, id DESC`, [`${GRIDS.guanyinqiao}%`]);
    expect(res.data.grid.events.totalCount).toBe(rows.length);
    expect(res.data.grid.events.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual(rows.slice(0, 2).map((r) => r.id));
    expect(res.data.grid.events.pageInfo.hasNextPage).toBe(rows.length > 2);
  });

  it('computes eventStats equal to SQL for a district by grid and month', async () => {
    const res = await stack.query(`{ eventStats(filter: { gridCode: "${GRIDS.jinjiang}" }, groupBy: [GRID, MONTH]) { key count closed closureRate } }`, {}, admin);
    const { rows } = await stack.db.pool.query(`SELECT grid_code, to_char(occurred_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM') AS m, count(*)::int AS n,
      count(*) FILTER (WHERE status IN ('closed', 'evaluated'))::int AS c FROM core.events WHERE grid_code LIKE $1 GROUP BY 1, 2 ORDER BY 1, 2`, [`${GRIDS.jinjiang}%`]);
    expect(res.data.eventStats).toEqual(rows.map((r) => ({ key: [r.grid_code, r.m], count: r.n, closed: r.c, closureRate: r.c / r.n })));
  });

  it('confines a grid worker across every subgraph', async () => {
    const worker = await stack.token({ role: 'grid-worker', grids: [GRIDS.g2] });
    const res = await stack.query(`query($z: ID, $l: ID) { zhang: person(id: $z) { name } li: person(id: $l) { name policeIncidents { incidentNo } mediationCases { caseNo } }
      eventStats(groupBy: [DEPARTMENT]) { key count } }`, { z: stack.fixture.persons.zhang.id, l: stack.fixture.persons.li.id }, worker);
    expect(res.errors).toBeUndefined();
    expect(res.data.zhang).toBeNull();
    // 李秀英 lives in grid 2; the theft there is visible, the noise dispute recorded in grid 1 is not.
    expect(res.data.li).toEqual({ name: '李秀英', policeIncidents: [{ incidentNo: 'JQ202611020005' }], mediationCases: [] });
    expect(res.data.eventStats).toEqual([{ key: ['POLICE'], count: 1 }]);
  });

  it('confines a department admin to their own department in every subgraph', async () => {
    const justice = await stack.token({ role: 'department-admin', department: 'JUSTICE' });
    const res = await stack.query(`query($l: ID, $z: ID) { li: person(id: $l) { name household { householdNo } policeIncidents { incidentNo } mediationCases { caseNo }
        sourceRecords { department } events { totalCount } } zhao: person(id: $z) { name } eventStats(groupBy: [DEPARTMENT]) { key count } }`,
      { l: stack.fixture.persons.li.id, z: stack.fixture.persons.zhao.id }, justice);
    expect(res.errors).toBeUndefined();
    expect(res.data.li).toEqual({ name: '李秀英', household: null, policeIncidents: [], mediationCases: [{ caseNo: '(2026)锦东调字第118号' }],
      sourceRecords: [{ department: 'JUSTICE' }], events: { totalCount: 1 } });
    // 赵桂兰 has no justice record: a justice administrator does not see her.
    expect(res.data.zhao).toBeNull();
    expect(res.data.eventStats.map((r: { key: string[] }) => r.key)).toEqual([['JUSTICE']]);
  });

  it('runs the same number of SQL statements for 1 and for 100 persons with every department field', async () => {
    const query = `query($n: Int) { persons(filter: { gridCode: "${GRIDS.g1}" }, first: $n) { totalCount edges { node { ${PERSON_WITH_EVERYTHING} } } } }`;
    stack.resetStatements();
    const one = await stack.query(query, { n: 1 }, admin);
    const forOne = stack.statements();
    stack.resetStatements();
    const hundred = await stack.query(query, { n: 100 }, admin);
    const forHundred = stack.statements();
    expect(one.errors).toBeUndefined();
    expect(hundred.errors).toBeUndefined();
    expect(one.data.persons.edges).toHaveLength(1);
    expect(hundred.data.persons.edges).toHaveLength(100);
    expect(hundred.data.persons.edges.filter((e: { node: { subsidies: unknown[] } }) => e.node.subsidies.length).length).toBeGreaterThan(90);
    expect(forHundred).toBe(forOne);
    expect(forOne).toBeLessThan(30);
  });

  it('refuses requests without a valid token with TL_ERR_UNAUTHENTICATED and 401', async () => {
    const none = await stack.query('{ persons { totalCount } }');
    expect(none.status).toBe(401);
    expect(none.errors?.[0]?.extensions?.code).toBe('TL_ERR_UNAUTHENTICATED');
    const forged = await stack.query('{ persons { totalCount } }', {}, `${admin.slice(0, -4)}AAAA`);
    expect(forged.status).toBe(401);
  });

  it('gives bad input a stable code and status', async () => {
    const res = await stack.query('{ person(idNumber: "12345") { name } }', {}, admin);
    expect(res.errors?.[0]?.extensions?.code).toBe('TL_ERR_BAD_USER_INPUT');
    expect(res.status).toBe(400);
    const invalid = await stack.query('{ persons { nope } }', {}, admin);
    expect(invalid.status).toBe(400);
    expect(invalid.errors?.[0]?.extensions?.code).toBe('TL_ERR_BAD_USER_INPUT');
  });

  it('runs only safelisted operations when PERSISTED_OPERATIONS=safelist', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tl-safelist-'));
    const allowed = 'query Grid { grid(code: "5101") { name } }';
    writeFileSync(join(dir, 'ops.json'), JSON.stringify([allowed]));
    const strict = await createGatewayServer({ config: { ...stack.config, PERSISTED_OPERATIONS: 'safelist', PERSISTED_OPERATIONS_FILE: join(dir, 'ops.json') },
      databaseUrl: stack.db.url, redisUrl: TEST_REDIS_URL, supergraphSdl: stack.supergraphSdl, subgraphUrls: stack.subgraphUrls });
    try {
      const url = await strict.listen(0);
      const post = (query: string) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` }, body: JSON.stringify({ query }) });
      const ok = await post(allowed);
      expect(((await ok.json()) as { data: unknown }).data).toEqual({ grid: { name: '成都市' } });
      const refused = await post('{ persons { totalCount } }');
      expect(refused.status).toBe(403);
      expect(((await refused.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe('TL_ERR_FORBIDDEN');
      // The gateway's own execution path (change-event enrichment) is not bound by the safelist.
      const internal = await strict.execute({ query: '{ persons { totalCount } }' }, { sub: 'relay', role: 'city-admin', grids: [], districts: [], scopes: [] });
      expect(internal.errors).toBeUndefined();
      // Nor is the WebSocket a way around it: a query or subscription not in the list is refused on the socket.
      const wsUrl = url.replace(/^http/, 'ws');
      const overSocket = [subscribeChanges(wsUrl, `Bearer ${admin}`, '{ persons { totalCount } }'), subscribeChanges(wsUrl, `Bearer ${admin}`, 'subscription { changes { id } }')];
      try {
        await waitFor(() => overSocket.every((s) => s.errors.length > 0 || s.completed), 'the socket refusals');
        for (const s of overSocket) {
          expect(s.data).toEqual([]);
          expect(s.errors.flat().map((e) => (e as { extensions: { code: string; reason: string } }).extensions))
            .toEqual([expect.objectContaining({ code: 'TL_ERR_FORBIDDEN', reason: 'operation_not_safelisted' })]);
        }
        const listed = subscribeChanges(wsUrl, `Bearer ${admin}`, allowed);
        overSocket.push(listed);
        await waitFor(() => listed.completed || listed.errors.length > 0, 'the listed query over the socket');
        expect(listed.errors).toEqual([]);
        expect(listed.data).toEqual([{ grid: { name: '成都市' } }]);
      } finally {
        await Promise.all(overSocket.map((s) => s.stop()));
      }
    } finally {
      await strict.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('serves /healthz, /readyz naming every dependency, and /metrics', async () => {
    const base = stack.url.replace(/\/graphql$/, '');
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    const report = (await ready.json()) as { status: string; down: string[]; checks: Record<string, { ok: boolean }> };
    expect(ready.status).toBe(200);
    expect(report.status).toBe('ready');
    expect(Object.keys(report.checks).sort()).toEqual(['database', 'redis', 'schema', 'subgraph:civil-affairs', 'subgraph:core', 'subgraph:justice', 'subgraph:petition', 'subgraph:police']);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/tonglan_gateway_requests_total\{operation="ByIdNumber",outcome="ok"\} 1/);
    expect(metrics).toMatch(/tonglan_gateway_subgraph_fetches_total\{subgraph="petition",outcome="ok"\} \d+/);
    expect(metrics).toMatch(/tonglan_gateway_errors_total\{code="TL_ERR_UNAUTHENTICATED"\} [1-9]/);
  });

  it('reports a subgraph that is down in /readyz with 503', async () => {
    const petition = stack.subgraphs.find((s) => s.name === 'petition')!;
    await petition.close();
    const base = stack.url.replace(/\/graphql$/, '');
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { down: string[] }).down).toEqual(['subgraph:petition']);
  });

  it('serves Subscription.changes over graphql-ws on the same /graphql, replaying the log as the gateway role', async () => {
    const redis = createRedis(TEST_REDIS_URL);
    const relay = new OutboxRelay({ pool: stack.db.pool, databaseUrl: stack.db.url, redis, prefix: stack.config.REDIS_PREFIX, log: createLogger({ level: 'silent' }), pollIntervalMs: 200 });
    await relay.start();
    const query = 'subscription($after: String) { changes(after: $after) { id op entity { ... on Event { id title } } } }';
    try {
      await commitOutbox(stack.db.pool, [{ entityType: 'Event', entityId: stack.fixture.events.e4, op: 'UPDATE', department: 'POLICE', gridCode: GRIDS.g2, changedFields: ['status'] }]);
      await waitFor(async () => (await stack.db.pool.query('SELECT 1 FROM hub.change_events')).rowCount === 1, 'the relay to log the change');
      const sub = subscribeChanges(stack.url.replace(/^http/, 'ws'), `Bearer ${admin}`, query, { after: '0' });
      try {
        await waitFor(() => sub.data.length === 1, 'the replayed change');
        expect(sub.errors).toEqual([]);
        expect(sub.data[0]).toMatchObject({ op: 'UPDATE', entity: { id: stack.fixture.events.e4, title: '静安路7号居民报称电动自行车被盗' } });
      } finally {
        await sub.stop();
      }
    } finally {
      await relay.stop();
      redis.disconnect();
    }
  });

  it('executes operations for other parts through execute() with a given identity', async () => {
    const result = await stack.gateway.execute({ query: 'query($id: ID!) { event(id: $id) { title grid { code } } }', variables: { id: stack.fixture.events.e4 } },
      { sub: 'relay', role: 'city-admin', grids: [], districts: [], scopes: [] });
    expect(result.data).toEqual({ event: { title: '静安路7号居民报称电动自行车被盗', grid: { code: GRIDS.g2 } } });
  });
});
