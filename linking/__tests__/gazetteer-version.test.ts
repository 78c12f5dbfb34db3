import { createTestDatabase, type TestDatabase } from '../../test/support/db';
import { parseAddress } from '../address-parser';
import { loadGazetteer } from '../gazetteer';
import { loadTestGrids } from './fixtures';

/**
 * loadGazetteer keeps the division table per database and checks a stamp of core.grids on every call (migration
 * 0350: renewed by every statement that changes core.grids). A grid change is seen by the very next call, with no
 * cache to clear; an unchanged table is not read again.
 */
describe('gazetteer: the stamp of core.grids', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('gazversion');
    await loadTestGrids(db.pool);
  });
  afterAll(async () => { await db.drop(); });

  const stamp = async () => (await db.pool.query<{ version: string }>('SELECT version FROM core.grids_version')).rows[0]!.version;

  it('is the same gazetteer while core.grids is unchanged', async () => {
    const a = await loadGazetteer(db.pool);
    const b = await loadGazetteer(db.pool);
    expect(b).toBe(a);
  });

  it('sees a community inserted, renamed and deleted at once', async () => {
    const before = await loadGazetteer(db.pool);
    expect(parseAddress('锦江区东湖街道新桥社区永丰街1号1栋', before).communityCode).toBeUndefined();
    const s0 = await stamp();
    await db.pool.query(`INSERT INTO core.grids (code, name, level, parent_code, division_code, path) VALUES ('510104018009', '新桥社区', 'community', '510104018', '510104018009', '{}')`);
    expect(await stamp()).not.toBe(s0);
    const inserted = await loadGazetteer(db.pool);
    expect(inserted).not.toBe(before);
    expect(parseAddress('锦江区东湖街道新桥社区永丰街1号1栋', inserted).communityCode).toBe('510104018009');

    await db.pool.query(`UPDATE core.grids SET name = '新华社区' WHERE code = '510104018009'`);
    const renamed = await loadGazetteer(db.pool);
    expect(parseAddress('锦江区东湖街道新华社区永丰街1号1栋', renamed).communityCode).toBe('510104018009');

    await db.pool.query(`DELETE FROM core.grids WHERE code = '510104018009'`);
    const deleted = await loadGazetteer(db.pool);
    expect(parseAddress('锦江区东湖街道新华社区永丰街1号1栋', deleted).communityCode).toBeUndefined();
  });

  it('is renewed only when the change commits: a transaction sees its own change, others the committed table', async () => {
    const committed = await loadGazetteer(db.pool);
    const c = await db.pool.connect();
    try {
      await c.query('BEGIN');
      await c.query(`INSERT INTO core.grids (code, name, level, parent_code, division_code, path) VALUES ('510104018008', '锦华社区', 'community', '510104018', '510104018008', '{}')`);
      const inside = await loadGazetteer(c);
      expect(inside.communities.has('510104018008')).toBe(true);
      const outside = await loadGazetteer(db.pool);
      expect(outside.communities.has('510104018008')).toBe(false);
      await c.query('ROLLBACK');
      const after = await loadGazetteer(db.pool);
      expect(after.communities.has('510104018008')).toBe(false);
      expect(after.communities.size).toBe(committed.communities.size);
    } finally {
      c.release();
    }
  });
});
