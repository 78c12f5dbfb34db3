import { createTestDatabase, type TestDatabase } from '../../test/support/db';
import { buildGeography, dwellingsOfGrid, standardAddress, type Geography } from '../geography';
import { gridRows, loadGeographyIntoHub } from '../hub-grids';

describe('demo geography (成都市)', () => {
  let geo: Geography;
  let db: TestDatabase;
  beforeAll(async () => {
    geo = await buildGeography({ seed: 7 });
    db = await createTestDatabase('demogeo');
  });
  afterAll(async () => { await db.drop(); });

  it('has the real districts, streets and communities, and grids coded below them', () => {
    expect(geo.cityName).toBe('成都市');
    expect(geo.districts.find((d) => d.code === '510107')?.name).toBe('武侯区');
    expect(geo.communities.length).toBeGreaterThan(2000);
    for (const g of geo.grids.slice(0, 500)) {
      expect(g.code).toMatch(/^\d{15}$/);
      expect(g.code.startsWith(g.community.code)).toBe(true);
      expect(g.name).toMatch(/第.+网格$/);
      expect(g.households).toBeGreaterThanOrEqual(170);
      expect(g.bbox[2]).toBeGreaterThan(g.bbox[0]);
    }
    expect(new Set(geo.grids.map((g) => g.code)).size).toBe(geo.grids.length);
  });

  it('is deterministic for a seed', async () => {
    // A small city (嘉峪关市, 48 communities) keeps the rebuilds cheap; the code paths are the same.
    const a = await buildGeography({ seed: 7, cityCode: '6202' });
    const b = await buildGeography({ seed: 7, cityCode: '6202' });
    const c = await buildGeography({ seed: 8, cityCode: '6202' });
    const sig = (g: Geography): string[] => g.grids.map((x) => `${x.code}${x.name}${x.worker.name}${x.bbox.join()}${x.community.roads.join()}`);
    expect(a.grids.length).toBeGreaterThan(48);
    expect(sig(b)).toEqual(sig(a));
    expect(c.grids.map((g) => g.worker.name)).not.toEqual(a.grids.map((g) => g.worker.name));
  });

  it('gives each grid dwellings with standard addresses inside the grid', () => {
    const urban = geo.grids.find((g) => g.community.kind === 'community')!;
    const ds = dwellingsOfGrid(geo, urban);
    expect(ds.length).toBeGreaterThanOrEqual(urban.households);
    expect(standardAddress(geo, ds[0]!)).toMatch(/^成都市.+区.+(街道|镇).+社区.+\d+号\d+栋\d+单元\d+室$/);
    for (const d of ds) {
      expect(d.lon).toBeGreaterThanOrEqual(urban.bbox[0]);
      expect(d.lat).toBeLessThanOrEqual(urban.bbox[3]);
    }
    const village = geo.grids.find((g) => g.community.kind === 'village')!;
    expect(standardAddress(geo, dwellingsOfGrid(geo, village)[0]!)).toMatch(/村\d+组\d+号$/);
  });

  it('loads into core.grids idempotently, with paths for prefix scoping', async () => {
    const rows = gridRows(geo);
    const first = await loadGeographyIntoHub(db.pool, geo);
    expect(first).toBe(rows.length);
    // Idempotent: a second load changes nothing; a changed grid is updated.
    const small = await buildGeography({ seed: 7, cityCode: '6202' });
    const smallRows = gridRows(small).length;
    expect(await loadGeographyIntoHub(db.pool, small)).toBe(smallRows);
    expect(await loadGeographyIntoHub(db.pool, small)).toBe(0);
    small.grids[0]!.worker.name = '测试员';
    expect(await loadGeographyIntoHub(db.pool, small)).toBe(1);
    const { rows: [g] } = await db.pool.query(`SELECT * FROM core.grids WHERE code = $1`, [geo.grids[0]!.code]);
    expect(g.level).toBe('grid');
    expect(g.path).toEqual(['5101', g.code.slice(0, 6), g.code.slice(0, 9), g.code.slice(0, 12), g.code]);
    expect(g.polygon.type).toBe('Polygon');
    const { rows: [n] } = await db.pool.query(`SELECT count(*)::int AS n FROM core.grids WHERE code LIKE '510104%' AND level = 'grid'`);
    expect(n.n).toBe(geo.grids.filter((x) => x.code.startsWith('510104')).length);
  });
});
