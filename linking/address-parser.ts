import type { Gazetteer, NameEntry } from './gazetteer';
import { toHalfWidth } from './text';

/**
 * Chinese address parsing: 〔省〕〔市〕区/县 → 街道/镇 → 社区/村 → 路/街 → 号 → 栋/幢/号楼 → 单元 → 室, against the
 * division table (gazetteer.ts). Handles what departments actually write: full-width digits, spaces, Chinese
 * numerals (三栋), 栋/幢/号楼/座, `3-2-501` for building-unit-room, abbreviations (锦江 for 锦江区), a missing
 * city, district or street, and village addresses (红光村3组12号).
 */
export interface ParsedAddress {
  status: 'parsed' | 'partial' | 'unparsed';
  /** Why the address is partial or unparsed. */
  reason?: string;
  districtCode?: string;
  streetCode?: string;
  communityCode?: string;
  district?: string;
  street?: string;
  community?: string;
  road?: string;
  number?: string;
  building?: string;
  unit?: string;
  room?: string;
  /** 村民小组 of a village address. */
  group?: string;
  /** 小区 name, when the address names the compound instead of road and number (水井坊社区锦绣花园3栋…). */
  compound?: string;
  /** The key every spelling of this place shares (core.places.norm_key). */
  normKey: string;
  /** The building (楼栋, or a village house) the place is in: places of one building share a grid. */
  buildingKey: string | null;
  /** road|number|building without the district: finds the district of an address written without one. */
  houseKey: string | null;
  /** community|小区|building of an address that names the compound: finds the building in the register. */
  compoundKey: string | null;
  /** What person linking compares: the dwelling without district and unit, as departments differ on both. */
  personKey: string | null;
  /** The standard form, as the police 标准地址 writes it. */
  standard: string;
}

const CN_DIGITS: Record<string, number> = { 零: 0, 〇: 0, 一: 1, 二: 2, 两: 2, 三: 3, 四: 4, 五: 5, 六: 6, 七: 7, 八: 8, 九: 9 };

/** 十二 → 12, 二十 → 20, 三 → 3, 一〇一 → 101 (digit by digit when there is no 十/百). */
export function chineseNumber(cn: string): number | null {
  if (!cn) return null;
  if (!/[十百]/.test(cn)) {
    let n = 0;
    for (const ch of cn) { const d = CN_DIGITS[ch]; if (d === undefined) return null; n = n * 10 + d; }
    return n;
  }
  let total = 0;
  let cur = 0;
  for (const ch of cn) {
    if (ch === '百') { total += (cur || 1) * 100; cur = 0; }
    else if (ch === '十') { total += (cur || 1) * 10; cur = 0; }
    else { const d = CN_DIGITS[ch]; if (d === undefined) return null; cur = d; }
  }
  return total + cur;
}

const CN_NUM = '[零〇一二两三四五六七八九十百]+';
const NUMBERED = new RegExp(`(${CN_NUM})(?=号|栋|幢|座|单元|组|社|楼|层|室)`, 'g');
const SECTION_CN = ['', '一', '二', '三', '四', '五', '六', '七', '八', '九', '十'];

/** Layout noise and numeral forms out; Han characters untouched. */
export function cleanAddress(raw: string): string {
  let s = toHalfWidth(raw).replace(/[\s\u00a0]+/g, '');
  s = s.replace(/[，,。;；:：]/g, '').replace(/[－—–‐]/g, '-').replace(/[（(].*?[)）]/g, '');
  // Chinese numerals before a counter word become digits (三栋 → 3栋), except road sections (一段).
  s = s.replace(NUMBERED, (m) => String(chineseNumber(m) ?? m));
  // Road sections are written 一段 by the standard: 1段 → 一段.
  s = s.replace(/(\d{1,2})段/g, (m, d: string) => (SECTION_CN[Number(d)] ? `${SECTION_CN[Number(d)]}段` : m));
  return s;
}

const ROAD_END = '(?:路|街|大道|大街|巷|道|胡同|里)(?:[一二三四五六七八九十]段|[东西南北中]段)?';
const HOUSE = new RegExp(
  `^(?<road>.*?${ROAD_END})?(?<number>\\d+)号(?:院)?(?:附(?<annex>\\d+)号)?` +
  `(?:(?<building>\\d+)(?:栋|幢|号楼|座|楼))?(?:(?<unit>\\d+)单元)?(?:(?<room>\\d+)(?:室|号|房)?)?$`);
const HOUSE_DASHED = new RegExp(
  `^(?<road>.*?${ROAD_END})?(?<number>\\d+)号(?:院)?(?<building>\\d+)(?:栋|幢|号楼|座)?-(?<unit>\\d+)(?:单元)?-(?<room>\\d+)(?:室)?$`);
const BUILDING_ONLY = /^(?<building>\d+)(?:栋|幢|号楼|座)(?:(?<unit>\d+)单元)?(?:(?<room>\d+)(?:室|号|房)?)?$/;
/** 小区 names end in one of these (锦绣花园, 翠湖苑, 滨江华庭 …); a building number must follow. */
const COMPOUND_END = '(?:花园|小区|家园|公寓|新村|华庭|雅居|名城|花苑|嘉园|苑|府|园|城|居|庭|湾|郡)';
const COMPOUND = new RegExp(
  `^(?<compound>[\\u4e00-\\u9fff]{1,10}?${COMPOUND_END})(?<building>\\d+)(?:栋|幢|号楼|座)(?:(?<unit>\\d+)单元)?(?:(?<room>\\d+)(?:室|号|房)?)?$`);
const VILLAGE = new RegExp(`^(?<road>.*?${ROAD_END})?(?<group>\\d+)(?:组|社|队)(?<number>\\d+)号?$`);

const LEVEL_DEPTH: Record<NameEntry['level'], number> = { province: 0, city: 1, district: 2, street: 3, community: 4 };
/** Whether a road suffix or a number comes at lastIndex (sticky: tested in place, no slice of the rest). */
const ROAD_OR_NUMBER_AT = /(\d|号|路|街|大道|大街|巷|道|胡同|[一二三四五六七八九十东西南北中]段)/y;

const NO_LENGTHS: number[] = [];

interface Found { level: NameEntry['level']; entries: NameEntry[]; form: string }

/** The entries a name form may stand for after divisions down to `depth`, the address going on at `next`. */
function usableEntries(entries: NameEntry[], depth: number, s: string, next: number): NameEntry[] {
  let roadNext: boolean | undefined;
  // The entries themselves while all are usable; a copy only once one is not.
  let out: NameEntry[] | null = null;
  for (let k = 0; k < entries.length; k++) {
    const e = entries[k]!;
    let usable = LEVEL_DEPTH[e.level] > depth;
    if (usable && e.abbreviated) {
      if (roadNext === undefined) { ROAD_OR_NUMBER_AT.lastIndex = next; roadNext = ROAD_OR_NUMBER_AT.test(s); }
      usable = !roadNext;
    }
    if (!usable) out ??= entries.slice(0, k);
    else if (out) out.push(e);
  }
  return out ?? entries;
}

/** The entries of a level among the division names found. */
function entriesAt(found: readonly Found[], level: NameEntry['level']): NameEntry[] {
  const out: NameEntry[] = [];
  for (const f of found) for (const e of f.entries) if (e.level === level) out.push(e);
  return out;
}

function stripNumberZeros(v: string | undefined): string | undefined {
  return v === undefined ? undefined : String(Number(v));
}

export function parseAddress(raw: string | null | undefined, g: Gazetteer): ParsedAddress {
  const s = raw == null ? '' : cleanAddress(raw);
  if (!s) return { status: 'unparsed', reason: 'empty address', normKey: '', buildingKey: null, houseKey: null, compoundKey: null, personKey: null, standard: '' };

  // 1. Division names from the left, longest first.
  let pos = 0;
  const found: Found[] = [];
  let depth = -1;
  while (pos < s.length && depth < LEVEL_DEPTH.community) {
    let match: Found | undefined;
    // Longest first, only the lengths some name form starting with this character has (keyed by its code: no
    // string per position). A parse makes no string but the forms it looks up (43,000 parses a bench:linking run).
    for (const len of g.nameLengths.get(s.charCodeAt(pos)) ?? NO_LENGTHS) {
      if (len > s.length - pos || len < 2) continue;
      const form = s.slice(pos, pos + len);
      const entries = g.names.get(form);
      if (!entries) continue;
      // Divisions come in order, each deeper than the last; an abbreviation followed by a road suffix or a
      // number is the road itself (永丰 of 永丰街38号, 春熙路 of 春熙路12号), not the division of that name.
      const usable = usableEntries(entries, depth, s, pos + len);
      if (!usable.length) continue;
      match = { level: usable[0]!.level, entries: usable, form };
      break;
    }
    if (!match) break;
    found.push(match);
    depth = LEVEL_DEPTH.community;
    for (const e of match.entries) depth = Math.min(depth, LEVEL_DEPTH[e.level]);
    pos += match.form.length;
  }
  const rest = s.slice(pos);

  // 2. Resolve the divisions consistently: community within street within district.
  let districtCode: string | undefined;
  let streetCode: string | undefined;
  let communityCode: string | undefined;
  const districts = entriesAt(found, 'district');
  if (districts.length === 1) districtCode = districts[0]!.code;
  const streets = entriesAt(found, 'street').filter((e) => !districtCode || e.code.startsWith(districtCode));
  if (streets.length === 1) streetCode = streets[0]!.code;
  const communities = entriesAt(found, 'community').filter((e) => (!streetCode || e.code.startsWith(streetCode)) && (!districtCode || e.code.startsWith(districtCode)));
  const distinctCommunities = communities.length < 2 ? communities.map((c) => c.code) : [...new Set(communities.map((c) => c.code))];
  let reason: string | undefined;
  if (distinctCommunities.length === 1) communityCode = distinctCommunities[0];
  else if (distinctCommunities.length > 1 && !districtCode && !streetCode) {
    // The same community name in several districts: the district, if they share one, is still known.
    const ds = [...new Set(distinctCommunities.map((c) => g.communities.get(c)!.districtCode))];
    if (ds.length === 1) districtCode = ds[0];
  }
  if (communityCode) {
    const c = g.communities.get(communityCode)!;
    streetCode = c.streetCode;
    districtCode = c.districtCode;
  } else if (streetCode) {
    districtCode = g.streetDistrict.get(streetCode) ?? streetCode.slice(0, 6);
  }

  // 3. The house part.
  const m = HOUSE.exec(rest) ?? HOUSE_DASHED.exec(rest) ?? VILLAGE.exec(rest) ?? BUILDING_ONLY.exec(rest) ?? COMPOUND.exec(rest);
  const parts = m?.groups ?? {};
  const compound = parts.compound || undefined;
  const road = parts.road || undefined;
  const number = stripNumberZeros(parts.number);
  // 19号附1号 names building 1 of compound 19, as 19号1栋 does.
  const building = stripNumberZeros(parts.building ?? parts.annex);
  const unit = stripNumberZeros(parts.unit);
  const room = parts.room ? String(Number(parts.room)) : undefined;
  const group = stripNumberZeros(parts.group);

  const community = communityCode ? g.communities.get(communityCode)!.name : undefined;
  const street = streetCode ? g.streetName.get(streetCode) : undefined;
  const district = districtCode ? g.districtName.get(districtCode) : undefined;

  if (!m && !found.length) {
    return { status: 'unparsed', reason: 'no division, road or house number recognised', normKey: `raw|${s}`, buildingKey: null, houseKey: null, compoundKey: null, personKey: null, standard: s };
  }
  let normKey: string;
  let buildingKey: string | null = null;
  let houseKey: string | null = null;
  let compoundKey: string | null = null;
  let personKey: string | null = null;
  if (!m) {
    reason ??= `house number not recognised in "${rest}"`;
    normKey = `raw|${communityCode ?? streetCode ?? districtCode ?? '?'}|${rest}`;
  } else if (group !== undefined) {
    // A village house: 村 + 组 + 号 identify it.
    if (!communityCode) reason ??= 'village not recognised';
    normKey = `V|${communityCode ?? `?${s.slice(0, pos)}`}|${group}|${number}`;
    buildingKey = communityCode ? normKey : null;
    personKey = normKey;
  } else if (number !== undefined) {
    // An urban address: district + road + number identify the compound (communities are often left out).
    if (!districtCode) reason ??= 'district not recognised';
    else if (!road) reason ??= 'road not recognised';
    houseKey = `${road ?? ''}|${number}|${building ?? ''}`;
    normKey = `U|${districtCode ?? '?'}|${houseKey}|${unit ?? ''}|${room ?? ''}`;
    buildingKey = districtCode ? `${districtCode}|${houseKey}` : null;
    personKey = `${houseKey}|${room ?? ''}`;
  } else if (compound) {
    // A compound (小区) and a building: the standard-address register knows its road and number
    // (place-linking re-keys the place to them); without the register the road and number stay unknown.
    if (!communityCode) reason ??= 'community of the compound not recognised';
    normKey = `K|${communityCode ?? districtCode ?? '?'}|${compound}|${building ?? ''}|${unit ?? ''}|${room ?? ''}`;
    compoundKey = communityCode ? `${communityCode}|${compound}|${building}` : null;
  } else {
    // A community and a building number only: the compound is unknown.
    reason ??= 'road and house number missing';
    normKey = `C|${communityCode ?? '?'}|${building ?? ''}|${unit ?? ''}|${room ?? ''}`;
  }
  const standard = (district ?? '') + (street ?? '') + (community ?? '') + (
    group !== undefined ? `${group}组${number}号` : m
      ? `${compound ?? ''}${road ?? ''}${number ? `${number}号` : ''}${building ? `${building}栋` : ''}${unit ? `${unit}单元` : ''}${room ? `${room}室` : ''}`
      : rest);
  // The same properties in the same order as `{ status, reason?, ...base, normKey, … }`, written out (a literal is
  // built much faster than spreads; addresses naming a compound, a few, keep the spread).
  if (compound) {
    return { status: reason ? 'partial' : 'parsed', ...(reason ? { reason } : {}), districtCode, streetCode, communityCode, district, street,
      community, road, number, building, unit, room, group, compound, normKey, buildingKey, houseKey, compoundKey, personKey, standard };
  }
  return reason
    ? { status: 'partial', reason, districtCode, streetCode, communityCode, district, street, community, road, number, building, unit, room, group, normKey, buildingKey, houseKey, compoundKey, personKey, standard }
    : { status: 'parsed', districtCode, streetCode, communityCode, district, street, community, road, number, building, unit, room, group, normKey, buildingKey, houseKey, compoundKey, personKey, standard };
}
