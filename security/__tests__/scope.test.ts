import { createPool, type Pool } from '../../platform/db';
import { createTestDatabase, type TestDatabase } from '../../test/support/db';
import type { Identity, Role } from '../identity';
import {
  assertCan, assertManageDepartment, can, canManageDepartment, canSeeDepartment, canSeeGrid, departmentCondition,
  personDepartmentCondition, scopeCondition, scopePatterns,
} from '../scope';

const who = (role: Role, extra: Partial<Identity> = {}): Identity => ({ sub: `u-${role}`, role, grids: [], districts: [], scopes: [], ...extra });

// Two districts of 成都 (5101): 锦江区 510104 and 青羊区 510105, one street and community each, two grids in 锦江.
const GRIDS = [
  ['5101', '成都市', 'city', null],
  ['510104', '锦江区', 'district', '5101'],
  ['510105', '青羊区', 'district', '5101'],
  ['510104001', '督院街街道', 'street', '510104'],
  ['510105001', '少城街道', 'street', '510105'],
  ['510104001001', '东门街社区', 'community', '510104001'],
  ['510105001001', '宽巷子社区', 'community', '510105001'],
  ['510104001001001', '东门街社区第1网格', 'grid', '510104001001'],
  ['510104001001002', '东门街社区第2网格', 'grid', '510104001001'],
  ['510105001001001', '宽巷子社区第1网格', 'grid', '510105001001'],
] as const;

let db: TestDatabase;
let core: Pool;

beforeAll(async () => {
  db = await createTestDatabase('scope');
  core = createPool(db.url, { role: 'tonglan_core', max: 2 });
  for (const [code, name, level, parent] of GRIDS) {
    await db.pool.query('INSERT INTO core.grids (code, name, level, parent_code) VALUES ($1, $2, $3, $4)', [code, name, level, parent]);
  }
  // Persons: 3 in grid 1, 2 in grid 2, 4 in 青羊, 1 without a grid. Events: one per person, by department.
  const layout: [string | null, number, string][] = [
    ['510104001001001', 3, 'POLICE'], ['510104001001002', 2, 'JUSTICE'], ['510105001001001', 4, 'PETITION'], [null, 1, 'POLICE'],
  ];
  let n = 0;
  for (const [grid, count, department] of layout) {
    for (let i = 0; i < count; i++) {
      n += 1;
      const { rows } = await db.pool.query('INSERT INTO core.persons (name, grid_code) VALUES ($1, $2) RETURNING id', [`居民${n}`, grid]);
      const personId = rows[0].id;
      const ev = await db.pool.query(
        `INSERT INTO core.events (kind, title, occurred_at, status, grid_code, department, source_table, source_id)
         VALUES ('dispute', $1, now(), $2, $3, $4, 'test.events', gen_random_uuid()) RETURNING id`,
        [`事件${n}`, n % 2 ? 'closed' : 'handling', grid, department]);
      await db.pool.query('INSERT INTO core.event_participants (event_id, person_id, role) VALUES ($1, $2, $3)', [ev.rows[0].id, personId, 'party']);
      await db.pool.query(
        `INSERT INTO core.person_records (department, source_table, record_id, person_id, record_key, method)
         VALUES ($1, 'test.records', gen_random_uuid(), $2, $3, 'new')`, [department, personId, `k${n}`]);
    }
  }
});
afterAll(async () => {
  await core.end();
  await db.drop();
});

async function countPersons(identity: Identity): Promise<number> {
  const params: unknown[] = [];
  const where = [scopeCondition(identity, 'p.grid_code', params), personDepartmentCondition(identity, 'p.id', params)];
  const { rows } = await core.query(`SELECT count(*)::int AS n FROM core.persons p WHERE ${where.join(' AND ')}`, params);
  return rows[0].n;
}

async function eventStats(identity: Identity): Promise<Record<string, number>> {
  const params: unknown[] = [];
  const where = [scopeCondition(identity, 'e.grid_code', params), departmentCondition(identity, 'e.department', params)];
  const { rows } = await core.query(
    `SELECT substr(e.grid_code, 1, 6) AS district, count(*)::int AS n FROM core.events e WHERE ${where.join(' AND ')} GROUP BY 1 ORDER BY 1`, params);
  return Object.fromEntries(rows.map((r) => [r.district ?? 'none', r.n]));
}

describe('geographic and department scope in SQL', () => {
  it('gives patterns per role', () => {
    expect(scopePatterns(who('city-admin'))).toBeNull();
    expect(scopePatterns(who('analyst'))).toBeNull();
    expect(scopePatterns(who('district-officer', { districts: ['510104'] }))).toEqual(['510104%']);
    expect(scopePatterns(who('grid-worker', { grids: ['510104001001001', '510104001001001'] }))).toEqual(['510104001001001%']);
    expect(scopePatterns(who('integrator'))).toBeNull();
    expect(scopePatterns(who('integrator', { grids: ['510105001001001'] }))).toEqual(['510105001001001%']);
    // Codes that are not digits never reach a LIKE pattern; a grid worker without grids sees nothing.
    expect(scopePatterns(who('grid-worker', { grids: ['%', '5101_', "5101' OR 1=1"] }))).toEqual([]);
    // A grid worker's district claim does not widen their grids.
    expect(scopePatterns(who('grid-worker', { grids: ['510104001001002'], districts: ['510105'] }))).toEqual(['510104001001002%']);
  });

  it('counts only the persons each caller may see', async () => {
    expect(await countPersons(who('city-admin'))).toBe(10);
    expect(await countPersons(who('analyst'))).toBe(10);
    expect(await countPersons(who('district-officer', { districts: ['510104'] }))).toBe(5);
    expect(await countPersons(who('district-officer', { districts: ['510105'] }))).toBe(4);
    expect(await countPersons(who('district-officer', { districts: ['510104', '510105'] }))).toBe(9);
    expect(await countPersons(who('grid-worker', { grids: ['510104001001002'] }))).toBe(2);
    expect(await countPersons(who('grid-worker', { grids: ['510104001001001', '510105001001001'] }))).toBe(7);
    expect(await countPersons(who('grid-worker'))).toBe(0);
    expect(await countPersons(who('grid-worker', { grids: ['%'] }))).toBe(0);
    // Department admins: every grid, but only persons with a record of their department.
    expect(await countPersons(who('department-admin', { department: 'POLICE' }))).toBe(4);
    expect(await countPersons(who('department-admin', { department: 'PETITION' }))).toBe(4);
    expect(await countPersons(who('department-admin'))).toBe(0);
    expect(await countPersons(who('integrator', { grids: ['510104001001001'] }))).toBe(3);
  });

  it('makes statistics agree with the scope', async () => {
    expect(await eventStats(who('city-admin'))).toEqual({ '510104': 5, '510105': 4, none: 1 });
    expect(await eventStats(who('district-officer', { districts: ['510104'] }))).toEqual({ '510104': 5 });
    expect(await eventStats(who('grid-worker', { grids: ['510105001001001'] }))).toEqual({ '510105': 4 });
    expect(await eventStats(who('department-admin', { department: 'JUSTICE' }))).toEqual({ '510104': 2 });
    expect(await eventStats(who('department-admin', { department: 'POLICE' }))).toEqual({ '510104': 3, none: 1 });
  });

  it('checks single grids and departments', () => {
    const gw = who('grid-worker', { grids: ['510104001001001'] });
    expect(canSeeGrid(gw, '510104001001001')).toBe(true);
    expect(canSeeGrid(gw, '510104001001002')).toBe(false);
    expect(canSeeGrid(gw, '510104')).toBe(false);
    expect(canSeeGrid(gw, null)).toBe(false);
    const officer = who('district-officer', { districts: ['510104'] });
    expect(canSeeGrid(officer, '510104001001002')).toBe(true);
    expect(canSeeGrid(officer, '510105001001001')).toBe(false);
    expect(canSeeGrid(who('city-admin'), null)).toBe(true);
    const police = who('department-admin', { department: 'POLICE' });
    expect(canSeeDepartment(police, 'POLICE')).toBe(true);
    expect(canSeeDepartment(police, 'JUSTICE')).toBe(false);
    expect(canManageDepartment(police, 'POLICE')).toBe(true);
    expect(canManageDepartment(police, 'CIVIL_AFFAIRS')).toBe(false);
    expect(canManageDepartment(who('city-admin'), 'CIVIL_AFFAIRS')).toBe(true);
    expect(canManageDepartment(who('district-officer'), 'POLICE')).toBe(false);
    expect(() => assertManageDepartment(police, 'JUSTICE')).toThrow(/department-admin of POLICE may not connectors:manage for department JUSTICE/);
    expect(can(who('analyst'), 'audit:read')).toBe(false);
    expect(() => assertCan(who('grid-worker'), 'connectors:manage')).toThrow(expect.objectContaining({ code: 'TL_ERR_FORBIDDEN' }));
  });
});
