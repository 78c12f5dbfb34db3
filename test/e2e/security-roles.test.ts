import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildClientSchema, getIntrospectionQuery, type GraphQLSchema } from 'graphql';
import { queryAuditLog, verifyChain } from '../../security/audit';
import type { Identity, Role } from '../../security/identity';
import { SENSITIVE_FIELDS } from '../../security/masking';
import { IDENTITY_HEADER, encodeIdentity } from '../../security/identity';
import { policeConnectorInput } from '../../sync/__tests__/fixtures';
import { GRIDS } from '../fixtures/graph';
import { startSecurityStack, type SecurityStack } from './security-stack';
import { stringsIn, walkQueries } from './security-walk';

/**
 * Issue 8 "done when", through the real gateway (HTTP, JWTs signed with the configured secret, PostgreSQL,
 * Redis, the five graph subgraphs and the admin subgraph): a token of each role, with and without pii:read,
 * shows exactly what it may see and do — the table below, which docs/roles.md reproduces row for row (checked).
 */
type PersonKey = 'zhang' | 'li' | 'wang' | 'zhao' | 'chen';
const NAMES: Record<PersonKey, string> = { zhang: '张建国', li: '李秀英', wang: '王小明', zhao: '赵桂兰', chen: '陈刚' };
const ALL: PersonKey[] = ['zhang', 'li', 'wang', 'zhao', 'chen'];

interface RoleCase {
  role: Role;
  claims: { grids?: string[]; districts?: string[]; department?: string };
  pii: boolean;
  /** Persons the role sees (persons list, totalCount, person(id:)). */
  persons: PersonKey[];
  /** Events counted by events.totalCount and eventStats (checked against SQL too). */
  events: number;
  /** Sensitive fields unmasked (ID number, phone: values; flags, correction: present). */
  unmasked: boolean;
  /** person(idNumber: 张建国's) answers. */
  idLookup: 'refused' | 'found' | 'null';
  createPolice: boolean;
  createJustice: boolean;
  auditLog: boolean;
}

const ROLE_TABLE: RoleCase[] = [
  { role: 'city-admin', claims: {}, pii: false, persons: ALL, events: 7, unmasked: false, idLookup: 'refused', createPolice: true, createJustice: true, auditLog: true },
  { role: 'city-admin', claims: {}, pii: true, persons: ALL, events: 7, unmasked: true, idLookup: 'found', createPolice: true, createJustice: true, auditLog: true },
  { role: 'district-officer', claims: { districts: [GRIDS.jinjiang] }, pii: false, persons: ['zhang', 'li', 'wang', 'chen'], events: 6, unmasked: false, idLookup: 'refused', createPolice: false, createJustice: false, auditLog: false },
  { role: 'district-officer', claims: { districts: [GRIDS.jinjiang] }, pii: true, persons: ['zhang', 'li', 'wang', 'chen'], events: 6, unmasked: true, idLookup: 'found', createPolice: false, createJustice: false, auditLog: false },
  { role: 'grid-worker', claims: { grids: [GRIDS.g2] }, pii: false, persons: ['li'], events: 1, unmasked: false, idLookup: 'refused', createPolice: false, createJustice: false, auditLog: false },
  { role: 'grid-worker', claims: { grids: [GRIDS.g2] }, pii: true, persons: ['li'], events: 1, unmasked: true, idLookup: 'null', createPolice: false, createJustice: false, auditLog: false },
  { role: 'department-admin', claims: { department: 'POLICE' }, pii: false, persons: ALL, events: 3, unmasked: false, idLookup: 'refused', createPolice: true, createJustice: false, auditLog: false },
  { role: 'department-admin', claims: { department: 'POLICE' }, pii: true, persons: ALL, events: 3, unmasked: true, idLookup: 'found', createPolice: true, createJustice: false, auditLog: false },
  { role: 'integrator', claims: {}, pii: false, persons: ALL, events: 7, unmasked: false, idLookup: 'refused', createPolice: false, createJustice: false, auditLog: false },
  { role: 'integrator', claims: {}, pii: true, persons: ALL, events: 7, unmasked: true, idLookup: 'found', createPolice: false, createJustice: false, auditLog: false },
  { role: 'integrator', claims: { grids: [GRIDS.g1] }, pii: true, persons: ['zhang', 'chen'], events: 3, unmasked: true, idLookup: 'found', createPolice: false, createJustice: false, auditLog: false },
  { role: 'analyst', claims: {}, pii: false, persons: ALL, events: 7, unmasked: false, idLookup: 'refused', createPolice: false, createJustice: false, auditLog: false },
  { role: 'analyst', claims: {}, pii: true, persons: ALL, events: 7, unmasked: false, idLookup: 'refused', createPolice: false, createJustice: false, auditLog: false },
];

const subOf = (c: RoleCase, i: number) => `roles-${i}-${c.role}${c.pii ? '-pii' : ''}`;
const claimsText = (c: RoleCase) => [
  c.claims.districts ? `districts ${c.claims.districts.join(',')}` : '', c.claims.grids ? `grids ${c.claims.grids.join(',')}` : '',
  c.claims.department ? `department ${c.claims.department}` : '', c.pii ? 'pii:read' : '',
].filter(Boolean).join('; ') || '—';
const yes = (b: boolean, refused = 'refused (audited)') => (b ? 'yes' : refused);

/** The docs/roles.md row of a case: the README's table is this table. */
function markdownRow(c: RoleCase): string {
  const cells = [
    `\`${c.role}\``, claimsText(c),
    c.persons.length === ALL.length ? 'all 5' : c.persons.map((k) => NAMES[k]).join(', '),
    String(c.events),
    c.unmasked ? 'unmasked (audited)' : 'masked',
    c.unmasked ? 'values (audited)' : 'null',
    { refused: 'refused (audited)', found: 'found (audited)', null: 'null (out of scope, audited)' }[c.idLookup],
    yes(c.createPolice), yes(c.createJustice), c.auditLog ? 'yes' : 'no',
  ];
  return `| ${cells.join(' | ')} |`;
}

/** Fixture values that must never appear unmasked without pii:read: ID numbers (and their 15-digit forms), phones. */
function secretsOf(stack: SecurityStack): Map<string, PersonKey> {
  const out = new Map<string, PersonKey>();
  for (const k of ALL) {
    const p = stack.fixture.persons[k];
    out.set(p.idNumber, k);
    out.set(p.idNumber.slice(0, 6) + p.idNumber.slice(8, 17), k);
    out.set(p.phone, k);
  }
  return out;
}
/** Depth of the every-field walk (levels of selection below the root field). */
const WALK_DEPTH = 4;
const ID18 = /(?<![\dA-Za-z])\d{17}[\dXx](?![\dA-Za-z])/;
// Bounded by non-alphanumerics like ID18: digits inside a UUID or hex id (…-19987622078b) are not a phone number.
const MOBILE = /(?<![\dA-Za-z])1[3-9]\d{9}(?![\dA-Za-z])/;

describe('security: each role through the real gateway', () => {
  let stack: SecurityStack;
  const tokens: string[] = [];
  /** Persons whose unmasked ID number or phone some response of this test run contained. */
  const unmaskedSeen = new Set<string>();
  let secrets: Map<string, PersonKey>;
  let policeConnectorId: string | null = null;

  /** Every GraphQL call of the test goes through here: every response is scanned for unmasked fixture values. */
  async function ask(token: string, pii: boolean, query: string, variables: Record<string, unknown> = {}) {
    const res = await stack.query(query, variables, token);
    for (const s of stringsIn(res.data ?? null).concat(stringsIn(res.errors ?? null))) {
      for (const [secret, k] of secrets) if (s.includes(secret)) unmaskedSeen.add(stack.fixture.persons[k].id);
      if (!pii) {
        expect({ query, leaked: s }).toEqual({ query, leaked: expect.not.stringMatching(ID18) });
        expect({ query, leaked: s }).toEqual({ query, leaked: expect.not.stringMatching(MOBILE) });
        for (const secret of secrets.keys()) expect({ query, leaked: s }).toEqual({ query, leaked: expect.not.stringContaining(secret) });
      }
    }
    return res;
  }

  beforeAll(async () => {
    stack = await startSecurityStack('secroles');
    secrets = secretsOf(stack);
    for (const [i, c] of ROLE_TABLE.entries()) {
      tokens.push(await stack.token({ role: c.role, sub: subOf(c, i), ...c.claims, ...(c.pii ? { scope: 'pii:read' } : {}) }));
    }
  });
  afterAll(async () => { await stack?.stop(); });

  it('docs/roles.md shows exactly this table', () => {
    const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'roles.md'), 'utf8');
    const block = doc.split('<!-- role-table:start -->')[1]!.split('<!-- role-table:end -->')[0]!;
    const rows = block.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('| `'));
    expect(rows).toEqual(ROLE_TABLE.map(markdownRow));
  });

  describe.each(ROLE_TABLE.map((c, i) => [`${c.role}${c.pii ? ' +pii:read' : ''} ${claimsText(c)}`, c, i] as const))('%s', (_label, c, i) => {
    const token = () => tokens[i]!;

    it('sees exactly its persons, masked or not', async () => {
      const res = await ask(token(), c.pii, '{ persons(first: 50) { totalCount edges { node { id idNumber phone flags correction { correctionType } } } } }');
      expect(res.errors).toBeUndefined();
      const nodes = res.data.persons.edges.map((e: { node: any }) => e.node);
      const expected = c.persons.map((k) => stack.fixture.persons[k].id).sort();
      expect(nodes.map((n: { id: string }) => n.id).sort()).toEqual(expected);
      expect(res.data.persons.totalCount).toBe(c.persons.length);
      for (const n of nodes) {
        const key = ALL.find((k) => stack.fixture.persons[k].id === n.id)!;
        const p = stack.fixture.persons[key];
        if (c.unmasked) {
          expect([n.idNumber, n.phone]).toEqual([p.idNumber, p.phone]);
          expect(Array.isArray(n.flags)).toBe(true);
        } else {
          expect(n.idNumber).toBe(`${p.idNumber.slice(0, 6)}********${p.idNumber.slice(14)}`);
          expect(n.phone).not.toBe(p.phone);
          expect(n.phone).toContain('****');
          expect(n.flags).toBeNull();
          expect(n.correction).toBeNull();
        }
      }
      if (c.unmasked && c.persons.includes('wang')) {
        // The community-correction record is the justice bureau's: a department admin of another department
        // does not see it, even with pii:read.
        expect(nodes.find((n: { id: string }) => n.id === stack.fixture.persons.wang.id).correction)
          .toEqual(!c.claims.department || c.claims.department === 'JUSTICE' ? { correctionType: '缓刑' } : null);
      }
      // Single lookups agree with the list: inside → the person, outside → null.
      for (const k of ALL) {
        const one = await ask(token(), c.pii, 'query One($id: ID) { person(id: $id) { id name } }', { id: stack.fixture.persons[k].id });
        expect(one.data.person).toEqual(c.persons.includes(k) ? { id: stack.fixture.persons[k].id, name: NAMES[k] } : null);
      }
    });

    it('counts exactly its events, in lists and statistics, as SQL does', async () => {
      const res = await ask(token(), c.pii, '{ events(first: 1) { totalCount } eventStats(groupBy: [DEPARTMENT]) { key count } }');
      expect(res.errors).toBeUndefined();
      const statsTotal = res.data.eventStats.reduce((n: number, r: { count: number }) => n + r.count, 0);
      const prefixes = c.claims.grids ?? c.claims.districts ?? [GRIDS.city];
      const { rows } = await stack.db.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM core.events WHERE grid_code LIKE ANY($1::text[]) AND ($2::text IS NULL OR department = $2)`,
        [prefixes.map((p) => `${p}%`), c.claims.department ?? null]);
      expect([res.data.events.totalCount, statsTotal, rows[0]!.n]).toEqual([c.events, c.events, c.events]);
      if (c.claims.department) expect(res.data.eventStats.map((r: { key: string[] }) => r.key[0])).toEqual([c.claims.department]);
    });

    it('looks a person up by ID number only with pii:read, inside its scope', async () => {
      const res = await ask(token(), c.pii, 'query ByIdNumber($n: String) { person(idNumber: $n) { id idNumber } }', { n: stack.fixture.persons.zhang.idNumber });
      if (c.idLookup === 'refused') {
        expect(res.data?.person ?? null).toBeNull();
        expect(res.errors?.[0]?.extensions?.code).toBe('TL_ERR_FORBIDDEN');
        const { rows } = await stack.db.pool.query(`SELECT kind, detail->>'reason' AS reason FROM hub.audit_log WHERE actor = $1 AND detail->>'lookup' = 'personByIdNumber'`, [subOf(c, i)]);
        expect(rows).toEqual([{ kind: 'denied', reason: 'pii_read_required' }]);
      } else if (c.idLookup === 'found') {
        expect(res.errors).toBeUndefined();
        expect(res.data.person).toEqual({ id: stack.fixture.persons.zhang.id, idNumber: stack.fixture.persons.zhang.idNumber });
      } else {
        expect(res.errors).toBeUndefined();
        expect(res.data.person).toBeNull();
        const { rows } = await stack.db.pool.query(`SELECT kind, persons::text[] AS persons FROM hub.audit_log WHERE actor = $1 AND detail->>'lookup' = 'personByIdNumber'`, [subOf(c, i)]);
        expect(rows).toEqual([{ kind: 'denied', persons: [stack.fixture.persons.zhang.id] }]);
      }
    });

    it('creates connectors only for the departments it administers; refusals audited', async () => {
      for (const [department, allowed] of [['POLICE', c.createPolice], ['JUSTICE', c.createJustice]] as const) {
        const base = policeConnectorInput({ name: 'tonglan_nonexistent_source' } as never);
        const mapping = department === 'POLICE' ? base.mapping : { version: 1, streams: { jq: { target: 'justice.mediation_cases', fields: { case_no: 'jjdbh' } } } };
        const input = { ...base, department, name: `${subOf(c, i)}-${department}`, mapping, schedule: { everyMs: 3600000 } };
        const res = await ask(token(), c.pii, 'mutation Create($input: ConnectorInput!) { createConnector(input: $input) { id department } }', { input });
        if (allowed) {
          expect(res.errors).toBeUndefined();
          expect(res.data.createConnector.department).toBe(department);
          if (department === 'POLICE') policeConnectorId ??= res.data.createConnector.id;
        } else {
          expect(res.errors?.[0]?.extensions?.code).toBe('TL_ERR_FORBIDDEN');
          expect(res.data?.createConnector ?? null).toBeNull();
          const { rows } = await stack.db.pool.query(`SELECT kind FROM hub.audit_log WHERE actor = $1 AND operation = 'createConnector' AND detail->>'department' = $2`, [subOf(c, i), department]);
          expect(rows).toEqual([{ kind: 'denied' }]);
        }
      }
      const { rows } = await stack.db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM hub.connectors WHERE name LIKE $1`, [`${subOf(c, i)}-%`]);
      expect(rows[0]!.n).toBe(Number(c.createPolice) + Number(c.createJustice));
    });

    it('reads the audit log only as a city admin', async () => {
      const identity: Identity = { sub: subOf(c, i), role: c.role, grids: c.claims.grids ?? [], districts: c.claims.districts ?? [], department: c.claims.department as never, scopes: c.pii ? ['pii:read'] : [] };
      if (c.auditLog) expect(Array.isArray(await queryAuditLog(stack.db.pool, identity, { first: 1 }))).toBe(true);
      else await expect(queryAuditLog(stack.db.pool, identity, { first: 1 })).rejects.toMatchObject({ code: 'TL_ERR_FORBIDDEN' });
    });
  });

  it('a grid worker asking for a person, place, event or grid of another grid gets null, and the denial is audited', async () => {
    const worker = await stack.token({ role: 'grid-worker', sub: 'curious-worker', grids: [GRIDS.g2] });
    const res = await ask(worker, false, `query Peek($p: ID, $pl: ID!, $e: ID!, $none: ID, $g: String!, $noGrid: String!) {
      person(id: $p) { name phone } place(id: $pl) { address } event(id: $e) { title } nobody: person(id: $none) { name }
      grid(code: $g) { name } noGrid: grid(code: $noGrid) { name } }`,
    { p: stack.fixture.persons.zhao.id, pl: stack.fixture.places.p4, e: stack.fixture.events.e1, none: '00000000-0000-4000-8000-000000000000', g: GRIDS.g4, noGrid: '510199999999999' });
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ person: null, place: null, event: null, nobody: null, grid: null, noGrid: null });
    const { rows } = await stack.db.pool.query(`SELECT kind, operation, role, persons::text[] AS persons, detail->>'lookup' AS lookup FROM hub.audit_log WHERE actor = 'curious-worker' ORDER BY id`);
    // A person that does not exist is not a denial (nothing to protect); the three out-of-scope objects are.
    expect(rows.map((r) => r.lookup).sort()).toEqual(['event', 'grid', 'person', 'place']);
    expect(rows.every((r) => r.kind === 'denied' && r.operation === 'Peek' && r.role === 'grid-worker')).toBe(true);
    expect(rows.find((r) => r.lookup === 'person')!.persons).toEqual([stack.fixture.persons.zhao.id]);
  });

  describe('no unmasked ID number or phone anywhere in the graph without pii:read', () => {
    let schema: GraphQLSchema;
    const fill = (root: string, arg: { name: string }) => {
      const f = stack.fixture;
      if (arg.name === 'id') return ({ person: `"${f.persons.zhang.id}"`, place: `"${f.places.p1}"`, event: `"${f.events.e1}"` } as Record<string, string>)[root];
      if (arg.name === 'code') return `"${GRIDS.city}"`;
      if (arg.name === 'connectorId' && policeConnectorId) return `"${policeConnectorId}"`;
      return undefined;
    };

    beforeAll(async () => {
      const admin = await stack.token({ role: 'city-admin', sub: 'schema-reader' });
      const res = await stack.query(getIntrospectionQuery(), {}, admin);
      schema = buildClientSchema(res.data);
    });

    async function walk(token: string, pii: boolean) {
      const covered = new Set<string>();
      for (const q of walkQueries(schema, WALK_DEPTH, fill)) {
        // Refused by the limits? Walk the same root less deep.
        let depth = WALK_DEPTH;
        let query = q;
        for (;;) {
          const res = await ask(token, pii, query.query);
          if (res.errors?.some((e) => e.extensions?.code === 'TL_ERR_QUERY_TOO_COMPLEX') && depth > 2) {
            depth -= 1;
            query = walkQueries(schema, depth, fill).find((w) => w.root === q.root)!;
            continue;
          }
          expect(res.errors?.filter((e) => e.extensions?.code === 'TL_ERR_QUERY_TOO_COMPLEX') ?? []).toEqual([]);
          for (const f of query.covered) covered.add(f);
          break;
        }
      }
      return covered;
    }

    // Masking depends on the role and the scope claim, not on geography: the city admin (who sees every row),
    // a department admin and an analyst whose token carries pii:read (a role that ignores it) cover it. The
    // table's own queries above are scanned for every role too (`ask`).
    it.each([
      ['city-admin', {}, false], ['department-admin', { department: 'CIVIL_AFFAIRS' }, false], ['analyst', {}, true],
    ] as const)('%s %j (pii:read in token: %s)', async (role, claims, withScope) => {
      const token = await stack.token({ role, sub: `walk-${role}-${withScope}`, ...(claims as { grids?: string[]; districts?: string[]; department?: string }), ...(withScope ? { scope: 'pii:read' } : {}) });
      const covered = await walk(token, false);
      // Every sensitive field of every type in the graph was selected by the walk.
      const sensitive = Object.entries(SENSITIVE_FIELDS).flatMap(([t, fs]) => Object.keys(fs).map((f) => `${t}.${f}`))
        .filter((tf) => schema.getType(tf.split('.')[0]!));
      const objectValued = new Set(['Person.correction']);
      expect(sensitive.filter((tf) => !objectValued.has(tf) && !covered.has(tf))).toEqual([]);
    }, 240_000);

    it('the same walk with pii:read returns the unmasked values (the scan can see them)', async () => {
      const token = await stack.token({ role: 'city-admin', sub: 'walk-city-admin-pii', scope: 'pii:read' });
      const before = unmaskedSeen.size;
      await walk(token, true);
      for (const k of ALL) expect(unmaskedSeen).toContain(stack.fixture.persons[k].id);
      expect(unmaskedSeen.size).toBeGreaterThanOrEqual(before);
    }, 240_000);
  });

  it('refuses a depth bomb and an alias bomb before execution: no subgraph fetch, no statement', async () => {
    const admin = await stack.token({ role: 'city-admin', sub: 'bomber' });
    const depthBomb = `{ eventCategories { ${'children { '.repeat(20)}code${' }'.repeat(20)} } }`;
    const aliasBomb = `{ persons(first: 1) { edges { node { ${Array.from({ length: 200 }, (_, i) => `a${i}: name`).join(' ')} } } } }`;
    for (const bomb of [depthBomb, aliasBomb]) {
      const fetches = await stack.subgraphFetches();
      const statements = stack.statements();
      const res = await ask(admin, false, bomb);
      expect(res.data ?? null).toBeNull();
      expect(res.errors?.[0]?.extensions?.code).toBe('TL_ERR_QUERY_TOO_COMPLEX');
      expect(stack.statements()).toBe(statements);
      expect(await stack.subgraphFetches()).toBe(fetches);
    }
    // The counters do move for an ordinary query (the assertion above can fail).
    const fetches = await stack.subgraphFetches();
    const statements = stack.statements();
    await ask(admin, false, '{ persons(first: 1) { totalCount } }');
    expect(await stack.subgraphFetches()).toBeGreaterThan(fetches);
    expect(stack.statements()).toBeGreaterThan(statements);
  });

  it('no token, a bad token, a forged, expired or foreign-audience token: 401, TL_ERR_UNAUTHENTICATED, no data', async () => {
    const expired = await stack.token({ role: 'city-admin', sub: 'late' }, { expiresAt: Math.floor(Date.now() / 1000) - 300 });
    const forged = await stack.token({ role: 'city-admin', sub: 'mallory' }, { secret: 'not-the-configured-secret-0123456789' });
    const foreign = await stack.token({ role: 'city-admin', sub: 'other-app' }, { audience: 'some-other-api' });
    const cases: [string, string | undefined][] = [['missing', undefined], ['malformed', 'not.a.jwt'], ['bad_signature', forged], ['expired', expired], ['wrong_audience', foreign]];
    for (const [reason, token] of cases) {
      const res = await stack.query('{ persons { totalCount edges { node { name } } } }', {}, token);
      expect({ reason, status: res.status, data: res.data ?? null, code: res.errors?.[0]?.extensions?.code, detail: res.errors?.[0]?.extensions?.details?.reason })
        .toEqual({ reason, status: 401, data: null, code: 'TL_ERR_UNAUTHENTICATED', detail: reason });
    }
    // Failed logins are audited, one entry per reason per window (gateway/failed-logins.ts): three more
    // requests without a token add no row.
    for (let n = 0; n < 3; n += 1) expect((await stack.query('{ persons { totalCount } }')).status).toBe(401);
    let rows: { reason: string }[] = [];
    for (let attempt = 0; attempt < 50 && rows.length < cases.length; attempt += 1) {
      await new Promise((r) => setTimeout(r, 100));
      rows = (await stack.db.pool.query(`SELECT detail->>'reason' AS reason FROM hub.audit_log WHERE kind = 'denied' AND actor = 'anonymous' AND operation = 'authenticate'`)).rows;
    }
    expect(rows.map((r) => r.reason).sort()).toEqual(cases.map(([reason]) => reason).sort());
  });

  it('a subgraph called directly without (or with a forged) identity header answers nothing', async () => {
    for (const [name, url] of Object.entries(stack.subgraphUrls)) {
      for (const header of [undefined, encodeIdentity({ sub: 'x', role: 'city-admin', grids: [], districts: [], scopes: ['pii:read'] }, 'wrong-internal-key')]) {
        const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(header ? { [IDENTITY_HEADER]: header } : {}) },
          body: JSON.stringify({ query: '{ __typename }' }) });
        const body = await res.json() as { data: unknown; errors: { extensions: { code: string } }[] };
        expect({ name, status: res.status, data: body.data, code: body.errors[0]!.extensions.code }).toEqual({ name, status: 401, data: null, code: 'TL_ERR_UNAUTHENTICATED' });
      }
    }
  });

  it('the audit log shows every unmasked read of this test run, none for callers without pii:read, and the chain verifies', async () => {
    const { rows } = await stack.db.pool.query<{ actor: string; role: string; persons: string[] }>(`SELECT actor, role, persons::text[] AS persons FROM hub.audit_log WHERE kind = 'pii_read'`);
    const audited = new Set(rows.flatMap((r) => r.persons));
    expect(unmaskedSeen.size).toBe(ALL.length);
    expect([...unmaskedSeen].filter((p) => !audited.has(p))).toEqual([]);
    // Only pii:read holders of roles that honour it appear as readers.
    const readers = new Set(rows.map((r) => r.actor));
    for (const [i, c] of ROLE_TABLE.entries()) expect([subOf(c, i), readers.has(subOf(c, i))]).toEqual([subOf(c, i), readers.has(subOf(c, i)) && c.unmasked]);
    expect(rows.every((r) => r.role !== 'analyst' && !r.actor.endsWith('-false'))).toBe(true);
    const report = await verifyChain(stack.db.pool);
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.entries).toBeGreaterThan(20);
  });
});
