import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { buildingAddress, buildingsOfGrid, type Building, type GeoGrid, type Geography } from './geography';
import { populatedGrids } from './population';
import { csvLine } from './writers';

/**
 * The demo city's standard-address register (标准地址库): one row per building — every residential building
 * (小区 + road + 号 + 栋) of every urban grid of the city (~92,000 for 成都市), and the village houses (村 + 组 + 号)
 * of the populated villages (a whole city's village houses would be millions of rows) — with its one canonical
 * address, a point inside its grid's polygon and its grid code. Road names repeat across districts, so an address
 * written without its district can match buildings of several districts, as in a real city. The generator writes it to
 * `register/buildings.csv` (UTF-8 CSV with header); the hub loads the same rows at start-up
 * (cli/bootstrap.ts) into core.buildings, as a city loads its register with its grids.
 */
export interface RegisterRow {
  /** The register's id of the building. */
  id: string;
  /** Canonical standard address (no unit or room). */
  address: string;
  districtCode: string;
  streetCode: string;
  communityCode: string;
  gridCode: string;
  /** 小区 name (urban buildings). */
  compound: string | null;
  road: string | null;
  number: string;
  building: string | null;
  /** 村民小组 (village houses). */
  group: string | null;
  lon: number;
  lat: number;
}

export const REGISTER_COLUMNS = ['building_id', 'standard_address', 'district_code', 'street_code', 'community_code', 'grid_code',
  'compound', 'road', 'house_number', 'building', 'village_group', 'lon', 'lat'] as const;

export function registerRow(geo: Geography, b: Building): RegisterRow {
  const c = b.grid.community;
  return {
    id: b.id, address: buildingAddress(geo, b), districtCode: c.street.district.code, streetCode: c.street.code, communityCode: c.code,
    gridCode: b.grid.code, compound: b.compound, road: b.group === null ? b.road : null, number: String(b.number),
    building: b.building === null ? null : String(b.building), group: b.group === null ? null : String(b.group), lon: b.lon, lat: b.lat,
  };
}

export function registerCsvLine(r: RegisterRow): string {
  return csvLine([r.id, r.address, r.districtCode, r.streetCode, r.communityCode, r.gridCode, r.compound, r.road, r.number, r.building,
    r.group, r.lon.toFixed(6), r.lat.toFixed(6)]);
}

/**
 * The register of a generated data set without generating it: the buildings of every populated grid for this
 * seed and size (what `generate` writes to register/buildings.csv, unless a grid needed more than twice its
 * nominal households — then the generator's file has more buildings).
 */
export function demoRegister(geo: Geography, persons: number, scope: 'city' | 'populated' = 'city'): RegisterRow[] {
  const populated = populatedGrids(geo, geo.seed, persons).map((x) => x.grid);
  return [...populated, ...(scope === 'city' ? unpopulatedRegisterGrids(geo, populated) : [])].flatMap((grid) => buildingsOfGrid(geo, grid).map((b) => registerRow(geo, b)));
}

/** The grids whose buildings the register holds besides the populated ones: every other urban grid. */
export function unpopulatedRegisterGrids(geo: Geography, populated: readonly GeoGrid[]): GeoGrid[] {
  const done = new Set(populated.map((g) => g.code));
  return geo.grids.filter((g) => g.community.kind === 'community' && !done.has(g.code));
}

/** Read register/buildings.csv. Throws with the line number on a malformed row. */
export async function readRegisterFile(file: string): Promise<RegisterRow[]> {
  const out: RegisterRow[] = [];
  let header: string[] | undefined;
  let n = 0;
  for await (const line of createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity })) {
    n++;
    if (!line) continue;
    const f = splitCsv(line);
    if (!header) { header = f; continue; }
    const v: Record<string, string> = {};
    header.forEach((h, i) => { v[h] = f[i] ?? ''; });
    const lon = Number(v.lon);
    const lat = Number(v.lat);
    if (!v.building_id || !v.standard_address || !/^\d{15}$/.test(v.grid_code ?? '')) {
      throw new Error(`${file}:${n}: a register row needs building_id, standard_address and a 15-digit grid_code`);
    }
    out.push({
      id: v.building_id, address: v.standard_address, districtCode: v.district_code!, streetCode: v.street_code!, communityCode: v.community_code!,
      gridCode: v.grid_code!, compound: v.compound || null, road: v.road || null, number: v.house_number!, building: v.building || null,
      group: v.village_group || null, lon, lat,
    });
  }
  return out;
}

/** One CSV line (RFC 4180 quoting; rows never span lines). */
function splitCsv(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') { cur += '"'; i++; } else if (ch === '"') quoted = false; else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') { out.push(cur); cur = ''; } else cur += ch;
  }
  out.push(cur);
  return out;
}
