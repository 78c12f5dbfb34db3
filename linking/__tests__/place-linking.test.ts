import { withTransaction } from '../../platform/db';
import { createTestDatabase, type TestDatabase } from '../../test/support/db';
import { linkPlaces } from '../index';
import type { PlaceMention } from '../types';
import { GRID_A, GRID_B, GRID_SINGLE, GRID_VILLAGE, loadTestGrids } from './fixtures';

describe('place linking', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('linkplaces');
    await loadTestGrids(db.pool);
  });
  afterAll(async () => { await db.drop(); });

  const link = (ms: PlaceMention[]) => withTransaction(db.pool, (c) => linkPlaces(c, ms));

  it('puts every spelling of one dwelling on one place, and its grid from coordinates in the polygon', async () => {
    const links = await link([
      { ref: 'a', address: '成都市锦江区永丰街38号1栋2单元2202号', lon: 104.015, lat: 30.605 },
      { ref: 'b', address: '锦江区河滨社区永丰街38号1幢2单元2202室' },
      { ref: 'c', address: '锦江区永丰街３８号１栋２单元２２０２室  ' },
    ]);
    expect(new Set(links.map((l) => l.placeId)).size).toBe(1);
    expect(links.map((l) => l.gridCode)).toEqual([GRID_B, GRID_B, GRID_B]);
    const { rows } = await db.pool.query('SELECT address, district, road, number, building, unit, room, parse_status FROM core.places WHERE id = $1', [links[0]!.placeId]);
    expect(rows[0]).toMatchObject({ district: '锦江区', road: '永丰街', number: '38', building: '1', unit: '2', room: '2202', parse_status: 'parsed' });
  });

  it('gives other rooms of a located building its grid, in later batches and in earlier ones', async () => {
    const [before] = await link([{ ref: 'x', address: '锦江区永丰街40号2栋1单元101室' }]);
    expect(before!.gridCode).toBe('510104'); // the district is known, not the grid
    expect(before!.reason).toMatch(/grid not determined/);
    await link([{ ref: 'y', address: '成都市锦江区永丰街40号2栋3单元505号', lon: 104.005, lat: 30.605 }]);
    const { rows } = await db.pool.query('SELECT grid_code FROM core.places WHERE id = $1', [before!.placeId]);
    expect(rows[0].grid_code).toBe(GRID_A);
    const [later] = await link([{ ref: 'z', address: '锦江区河滨社区永丰街40号2幢2单元202室' }]);
    expect(later!.gridCode).toBe(GRID_A);
  });

  it('finds the district of an address written without one from the same building', async () => {
    const [a] = await link([{ ref: 'a', address: '锦江区永丰街38号1栋2单元2202室' }]);
    const [b] = await link([{ ref: 'b', address: '永丰街38号1幢2单元2202' }]);
    expect(b!.placeId).toBe(a!.placeId);
    expect(b!.gridCode).toBe(GRID_B);
  });

  it('uses the community when it has a single grid; villages by 村 + 组 + 号', async () => {
    const [s] = await link([{ ref: 's', address: '锦江区东湖街道东湖社区东湖路3号1栋1单元101室' }]);
    expect(s!.gridCode).toBe(GRID_SINGLE);
    const v = await link([{ ref: 'v1', address: '成都市成华区跳蹬河街道跳蹬村1组12号' }, { ref: 'v2', address: '跳蹬河街道跳蹬村一组12号' }]);
    expect(v[0]!.placeId).toBe(v[1]!.placeId);
    expect(v[0]!.gridCode).toBe(GRID_VILLAGE);
  });

  it('places an address at its community when the grid is unknown, learning the community from the building', async () => {
    const [civil] = await link([{ ref: 'c', address: '锦江区河滨社区永丰街60号1幢1单元101室' }]);
    expect(civil!.gridCode).toBe('510104018005');
    expect(civil!.reason).toMatch(/河滨社区 has 2 grids/);
    const [police] = await link([{ ref: 'p', address: '成都市锦江区永丰街60号1栋2单元202号' }]);
    expect(police!.gridCode).toBe('510104018005');
    // Coordinates for one room later put the whole building in its grid.
    await link([{ ref: 'i', address: '成都市锦江区永丰街60号1栋1单元101号', lon: 104.012, lat: 30.601 }]);
    const { rows } = await db.pool.query('SELECT DISTINCT grid_code FROM core.places WHERE building_key = $1', ['510104|永丰街|60|1']);
    expect(rows).toEqual([{ grid_code: GRID_B }]);
  });

  it('keeps an address it cannot parse, with the reason', async () => {
    const [u] = await link([{ ref: 'u', address: '火车站对面小卖部旁边' }]);
    expect(u!.status).toBe('unparsed');
    expect(u!.placeId).not.toBeNull();
    const { rows } = await db.pool.query('SELECT address, parse_status, parse_error FROM core.places WHERE id = $1', [u!.placeId]);
    expect(rows[0]).toEqual({ address: '火车站对面小卖部旁边', parse_status: 'unparsed', parse_error: expect.stringMatching(/no division/) });
    const [e] = await link([{ ref: 'e', address: '  ' }]);
    expect(e).toEqual({ ref: 'e', placeId: null, gridCode: null, status: 'unparsed', reason: 'empty address' });
  });

  it('is idempotent and safe under concurrent batches', async () => {
    const batch = [{ ref: 'p', address: '锦江区永丰街50号1栋1单元101室' }, { ref: 'q', address: '锦江区永丰街50号1栋1单元102室' }];
    const results = await Promise.all([link(batch), link([...batch].reverse()), link(batch)]);
    const ids = new Set(results.flatMap((r) => r.map((l) => l.placeId)));
    expect(ids.size).toBe(2);
    const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM core.places WHERE road = '永丰街' AND number = '50'`);
    expect(rows[0].n).toBe(2);
  });
});
