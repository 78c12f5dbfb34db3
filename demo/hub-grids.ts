import type { Queryable } from '../platform/db';
import { loadAddressRegister, type RegisterLoad } from '../linking/place-linking';
import { gridPolygon, type Geography } from './geography';
import type { RegisterRow } from './register';

/** One row of `core.grids`. */
export interface GridRow {
  code: string;
  name: string;
  level: 'city' | 'district' | 'street' | 'community' | 'grid';
  parentCode: string | null;
  divisionCode: string | null;
  households: number | null;
  workerName: string | null;
  polygon: unknown;
  path: string[];
}

/** The geography as `core.grids` rows, parents before children: city → district → street → community → grid. */
export function gridRows(geo: Geography): GridRow[] {
  const rows: GridRow[] = [{
    code: geo.cityCode, name: geo.cityName, level: 'city', parentCode: null, divisionCode: `${geo.cityCode}00`,
    households: null, workerName: null, polygon: null, path: [geo.cityCode],
  }];
  for (const d of geo.districts) {
    rows.push({ code: d.code, name: d.name, level: 'district', parentCode: geo.cityCode, divisionCode: d.code, households: null, workerName: null, polygon: null, path: [geo.cityCode, d.code] });
  }
  for (const s of geo.streets) {
    rows.push({ code: s.code, name: s.name, level: 'street', parentCode: s.district.code, divisionCode: s.code, households: null, workerName: null, polygon: null, path: [geo.cityCode, s.district.code, s.code] });
  }
  for (const c of geo.communities) {
    rows.push({
      code: c.code, name: c.name, level: 'community', parentCode: c.street.code, divisionCode: c.code,
      households: c.grids.reduce((n, g) => n + g.households, 0), workerName: null, polygon: null,
      path: [geo.cityCode, c.street.district.code, c.street.code, c.code],
    });
  }
  for (const g of geo.grids) {
    const c = g.community;
    rows.push({
      code: g.code, name: g.name, level: 'grid', parentCode: c.code, divisionCode: c.code, households: g.households,
      workerName: g.worker.name, polygon: gridPolygon(g), path: [geo.cityCode, c.street.district.code, c.street.code, c.code, g.code],
    });
  }
  return rows;
}

/**
 * Upsert the demo city's geography into the hub's `core.grids` (idempotent: a second run changes nothing,
 * a changed name or polygon is updated). Runs in chunks so a whole city (~28,000 rows) is a few statements.
 * Returns the number of rows inserted or changed.
 */
export async function loadGeographyIntoHub(client: Queryable, geo: Geography, chunkSize = 5000): Promise<number> {
  const rows = gridRows(geo);
  let changed = 0;
  for (let i = 0; i < rows.length; i += chunkSize) {
    const chunk = rows.slice(i, i + chunkSize);
    const res = await client.query(
      `INSERT INTO core.grids (code, name, level, parent_code, division_code, households, worker_name, polygon, path)
       SELECT r.code, r.name, r.level, r.parent_code, r.division_code, r.households, r.worker_name, r.polygon,
              ARRAY(SELECT jsonb_array_elements_text(r.path))
         FROM jsonb_to_recordset($1::jsonb) AS r(code text, name text, level text, parent_code text, division_code text,
              households integer, worker_name text, polygon jsonb, path jsonb)
       ON CONFLICT (code) DO UPDATE SET
         name = EXCLUDED.name, level = EXCLUDED.level, parent_code = EXCLUDED.parent_code,
         division_code = EXCLUDED.division_code, households = EXCLUDED.households,
         worker_name = EXCLUDED.worker_name, polygon = EXCLUDED.polygon, path = EXCLUDED.path
       WHERE (core.grids.name, core.grids.level, core.grids.parent_code, core.grids.division_code, core.grids.households,
              core.grids.worker_name, core.grids.polygon, core.grids.path)
             IS DISTINCT FROM
             (EXCLUDED.name, EXCLUDED.level, EXCLUDED.parent_code, EXCLUDED.division_code, EXCLUDED.households,
              EXCLUDED.worker_name, EXCLUDED.polygon, EXCLUDED.path)`,
      [JSON.stringify(chunk.map((r) => ({
        code: r.code, name: r.name, level: r.level, parent_code: r.parentCode, division_code: r.divisionCode,
        households: r.households, worker_name: r.workerName, polygon: r.polygon, path: r.path,
      })))],
    );
    changed += res.rowCount ?? 0;
  }
  return changed;
}

/**
 * Load the demo city's standard-address register (register/buildings.csv, or `demoRegister(geo, persons)`)
 * into the hub's core.buildings, after the grids: an idempotent upsert by building id. Returns the rows
 * changed and those rejected with the reason (none for a generated register).
 */
export async function loadRegisterIntoHub(client: Queryable, rows: RegisterRow[]): Promise<RegisterLoad> {
  return loadAddressRegister(client, rows.map((r) => ({ sourceId: r.id, address: r.address, gridCode: r.gridCode, compound: r.compound, lon: r.lon, lat: r.lat })));
}
