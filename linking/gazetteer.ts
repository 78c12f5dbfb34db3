import { province as provinceDivision } from '../domain/divisions';
import type { Queryable } from '../platform/db';

/**
 * The division table the address parser matches against: the city's districts, streets/towns and
 * communities/villages with their codes (GB/T 2260 + NBS), as held in `core.grids` (loaded from
 * domain/divisions.ts), with the grids below each community and their polygons. Names are indexed with the
 * everyday abbreviations people write (锦江 for 锦江区, 春熙路 for 春熙路街道, 八宝街 for 八宝街社区).
 * Loaded once per database and reloaded when the grid table changes.
 */
export type DivisionLevel = 'province' | 'city' | 'district' | 'street' | 'community';

export interface NameEntry {
  level: DivisionLevel;
  code: string;
  /** The written form was an abbreviation (suffix dropped): only trusted when no road number follows it. */
  abbreviated: boolean;
}

export interface GridArea {
  code: string;
  communityCode: string;
  bbox: [number, number, number, number];
  ring: number[][];
}

export interface CommunityInfo {
  code: string;
  name: string;
  streetCode: string;
  districtCode: string;
  grids: GridArea[];
}

export interface Gazetteer {
  names: Map<string, NameEntry[]>;
  maxNameLength: number;
  /** First character of a name form → the lengths of the forms starting with it, longest first (the parser tries only those). */
  nameLengths: Map<number, number[]>;
  districtName: Map<string, string>;
  streetName: Map<string, string>;
  /** street code → its district code */
  streetDistrict: Map<string, string>;
  communities: Map<string, CommunityInfo>;
  grids: Map<string, GridArea>;
  /** Spatial hash of grid bounding boxes (cells of CELL degrees). */
  cells: Map<string, GridArea[]>;
}

const CELL = 0.01;

function cellKey(x: number, y: number): string {
  return `${Math.floor(x / CELL)}:${Math.floor(y / CELL)}`;
}

/** Abbreviations of a division name: the forms people write without the administrative suffix. */
export function nameVariants(name: string, level: DivisionLevel): Array<{ form: string; abbreviated: boolean }> {
  const out = [{ form: name, abbreviated: false }];
  const add = (form: string) => { if (form.length >= 2 && form !== name) out.push({ form, abbreviated: true }); };
  switch (level) {
    case 'province': add(name.replace(/(省|市|自治区|壮族自治区|回族自治区|维吾尔自治区|特别行政区)$/, '')); break;
    case 'city': add(name.replace(/市$/, '')); break;
    case 'district': add(name.replace(/(区|县|市|自治县)$/, '')); break;
    case 'street': add(name.replace(/(街道办事处|街道|镇|乡)$/, '')); break;
    case 'community':
      add(name.replace(/社区$/, ''));
      if (/村$/.test(name)) add(name.replace(/村$/, ''));
      break;
  }
  return out;
}

interface GridRow { code: string; name: string; level: string; parent_code: string | null; polygon: { coordinates?: number[][][] } | null }

const cache = new Map<string, { stamp: string; at: number; gazetteer: Gazetteer }>();

/** Forget loaded tables (tests that change core.grids and link again at once). */
export function clearGazetteerCache(): void {
  cache.clear();
}
const MAX_AGE_MS = 5 * 60_000;

export async function loadGazetteer(client: Queryable): Promise<Gazetteer> {
  // Every batch checks whether core.grids changed: a primary-key probe of the stamp every statement that changes
  // core.grids renews (migration 0350), so grids loaded a moment ago are always seen.
  const s = await client.query<{ db: string; stamp: string }>(
    'SELECT current_database() AS db, version AS stamp FROM core.grids_version WHERE id');
  const { db, stamp } = s.rows[0]!;
  const key = db;
  const hit = cache.get(key);
  if (hit && hit.stamp === stamp && Date.now() - hit.at < MAX_AGE_MS) return hit.gazetteer;
  const r = await client.query<GridRow>('SELECT code, name, level, parent_code, polygon FROM core.grids ORDER BY code');
  const gazetteer = buildGazetteer(r.rows);
  cache.set(key, { stamp, at: Date.now(), gazetteer });
  return gazetteer;
}

export function buildGazetteer(rows: GridRow[]): Gazetteer {
  const g: Gazetteer = {
    names: new Map(), maxNameLength: 0, nameLengths: new Map(), districtName: new Map(), streetName: new Map(), streetDistrict: new Map(),
    communities: new Map(), grids: new Map(), cells: new Map(),
  };
  const addName = (name: string, level: DivisionLevel, code: string) => {
    for (const v of nameVariants(name, level)) {
      let list = g.names.get(v.form);
      if (!list) g.names.set(v.form, (list = []));
      if (!list.some((e) => e.code === code && e.level === level)) list.push({ level, code, abbreviated: v.abbreviated });
      g.maxNameLength = Math.max(g.maxNameLength, v.form.length);
      const first = v.form.charCodeAt(0);
      let lengths = g.nameLengths.get(first);
      if (!lengths) g.nameLengths.set(first, (lengths = []));
      if (!lengths.includes(v.form.length)) { lengths.push(v.form.length); lengths.sort((a, b) => b - a); }
    }
  };
  const provinces = new Set<string>();
  for (const row of rows) {
    switch (row.level) {
      case 'city': {
        addName(row.name, 'city', row.code);
        provinces.add(row.code.slice(0, 2));
        break;
      }
      case 'district': g.districtName.set(row.code, row.name); addName(row.name, 'district', row.code); break;
      case 'street':
        g.streetName.set(row.code, row.name);
        g.streetDistrict.set(row.code, row.parent_code ?? row.code.slice(0, 6));
        addName(row.name, 'street', row.code);
        break;
      case 'community': {
        const streetCode = row.parent_code ?? row.code.slice(0, 9);
        g.communities.set(row.code, { code: row.code, name: row.name, streetCode, districtCode: streetCode.slice(0, 6), grids: [] });
        addName(row.name, 'community', row.code);
        break;
      }
      case 'grid': {
        const ring = row.polygon?.coordinates?.[0];
        if (!ring || ring.length < 4) break;
        const xs = ring.map((p) => p[0]!);
        const ys = ring.map((p) => p[1]!);
        const area: GridArea = {
          code: row.code, communityCode: row.parent_code ?? row.code.slice(0, 12), ring,
          bbox: [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)],
        };
        g.grids.set(row.code, area);
        for (let x = Math.floor(area.bbox[0] / CELL); x <= Math.floor(area.bbox[2] / CELL); x++) {
          for (let y = Math.floor(area.bbox[1] / CELL); y <= Math.floor(area.bbox[3] / CELL); y++) {
            const k = `${x}:${y}`;
            let list = g.cells.get(k);
            if (!list) g.cells.set(k, (list = []));
            list.push(area);
          }
        }
        break;
      }
    }
  }
  for (const code of provinces) {
    const p = provinceDivision(code);
    if (p) addName(p.name, 'province', code);
  }
  // Grids without a polygon still belong to their community.
  for (const row of rows) {
    if (row.level !== 'grid') continue;
    const area = g.grids.get(row.code) ?? { code: row.code, communityCode: row.parent_code ?? row.code.slice(0, 12), ring: [], bbox: [0, 0, 0, 0] as [number, number, number, number] };
    g.communities.get(area.communityCode)?.grids.push(area);
  }
  return g;
}

/** Ray casting: is the point inside the closed ring ([lon, lat] pairs)? */
export function pointInRing(lon: number, lat: number, ring: number[][]): boolean {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i] as [number, number];
    const [xj, yj] = ring[j] as [number, number];
    if ((yi > lat) !== (yj > lat) && lon < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** The grid whose polygon contains the point, if any. */
export function gridAt(g: Gazetteer, lon: number, lat: number): GridArea | undefined {
  for (const area of g.cells.get(cellKey(lon, lat)) ?? []) {
    const [x0, y0, x1, y1] = area.bbox;
    if (lon < x0 || lon > x1 || lat < y0 || lat > y1) continue;
    if (pointInRing(lon, lat, area.ring)) return area;
  }
  return undefined;
}
