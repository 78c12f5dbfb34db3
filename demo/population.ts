import { districts } from '../domain/divisions';
import { generateIdNumber } from '../domain/id-number';
import { dwellingsOfGrid, type Dwelling, type GeoGrid, type Geography } from './geography';
import { pickGivenName, pickLandline, pickMobile, pickSurname } from './names';
import type { TruePerson } from './noise';
import { hash32, Random, rng } from './random';

/**
 * The demo population: households at dwellings, persons with valid ID numbers whose region code is where
 * they were registered at birth (the district they live in, its code before a renaming, elsewhere in
 * Sichuan, or another province for migrants), special-group flags at plausible rates.
 */
export type Flag = 'dibao' | 'tekun' | 'elderly_alone' | 'mental_disorder' | 'correction';

/** GB/T 4761 family relation codes (与户主关系) as the police register uses them. */
export type Relation = '02' | '10' | '20' | '30' | '51' | '52' | '99';

export interface Person extends TruePerson {
  household: Household;
  relation: Relation;
  /** GB 3304 ethnicity code: 01 汉, 03 回, 04 藏, 07 彝, 15 土家, 33 羌. */
  ethnicity: string;
  /** Registered here (常住户籍) or a migrant registered elsewhere (流动人口). */
  hukou: 'local' | 'migrant';
  flags: Flag[];
  age: number;
}

export interface Household {
  id: string;
  /** 户号 in the police register. */
  no: string;
  grid: GeoGrid;
  dwelling: Dwelling;
  members: Person[];
}

/** Renamed districts: ID numbers of people registered before the change carry the old code. */
const RENAMED: Record<string, [string, number]> = {
  '510114': ['510125', 2001], '510115': ['510123', 2002], '510116': ['510122', 2016], '510117': ['510124', 2016],
  '510118': ['510132', 2020], '510185': ['512081', 2016], '510182': ['510126', 1993], '510184': ['510128', 1994],
  '510183': ['510130', 1994],
};

const OTHER_PROVINCES: readonly (readonly [string, number])[] = [
  ['50', 5], ['53', 2], ['52', 2], ['62', 1], ['61', 1], ['41', 1], ['42', 1], ['43', 1], ['44', 0.5], ['33', 0.3], ['11', 0.2],
];

const AGE_BANDS: readonly (readonly [[number, number], number])[] = [
  [[20, 29], 14], [[30, 39], 17], [[40, 49], 16], [[50, 59], 17], [[60, 69], 15], [[70, 79], 10], [[80, 95], 5],
];

export class PopulationBuilder {
  private readonly seqBuckets = new Map<number, number>();
  private readonly sichuanOther: string[];
  private readonly byProvince = new Map<string, string[]>();
  private personSerial = 0;
  private householdSerial = 0;
  readonly asOfYear: number;

  constructor(private readonly geo: Geography, private readonly seed: number, private readonly asOf: string) {
    this.asOfYear = Number(asOf.slice(0, 4));
    const all = districts();
    this.sichuanOther = all.filter((d) => d.provinceCode === '51' && d.cityCode !== geo.cityCode).map((d) => d.code);
    for (const d of all) {
      const list = this.byProvince.get(d.provinceCode) ?? [];
      list.push(d.code);
      this.byProvince.set(d.provinceCode, list);
    }
  }

  /** Households of one grid holding `persons` persons in total (the last household is cut to fit). */
  householdsOfGrid(grid: GeoGrid, persons: number): Household[] {
    const r = rng(this.seed, 'households', grid.code);
    const households: Household[] = [];
    const sizes: number[] = [];
    let left = persons;
    while (left > 0) {
      const size = Math.min(left, r.weighted([[1, 22], [2, 30], [3, 24], [4, 13], [5, 8], [6, 3]] as const));
      sizes.push(size);
      left -= size;
    }
    const dwellings = dwellingsOfGrid(this.geo, grid, Math.max(sizes.length, grid.households));
    sizes.forEach((size, i) => households.push(this.household(r, grid, dwellings[i]!, size)));
    return households;
  }

  private household(r: Random, grid: GeoGrid, dwelling: Dwelling, size: number): Household {
    this.householdSerial++;
    const h: Household = {
      id: `H${String(this.householdSerial).padStart(7, '0')}`,
      no: `${grid.community.street.code.slice(4)}${String(this.householdSerial % 10_000_000).padStart(7, '0')}`.slice(0, 12),
      grid, dwelling, members: [],
    };
    const village = grid.community.kind === 'village';
    const migrant = r.chance(village ? 0.06 : 0.16);
    const familyName = pickSurname(r);
    const add = (relation: Relation, sex: 'M' | 'F', age: number, surname?: string): Person => {
      const p = this.person(r, h, relation, sex, Math.max(0, Math.min(99, Math.round(age))), surname ?? pickSurname(r), migrant);
      h.members.push(p);
      return p;
    };
    const bandAge = (min = 20): number => {
      const [lo, hi] = r.weighted(AGE_BANDS.filter(([[, hi2]]) => hi2 >= min));
      return r.int(Math.max(lo, min), hi);
    };
    if (size === 1) {
      const age = r.chance(0.45) ? r.int(62, 92) : bandAge(20);
      add('02', r.chance(age > 70 ? 0.4 : 0.55) ? 'M' : 'F', age, familyName);
    } else if (size === 2 && r.chance(0.35)) {
      const age = r.int(42, 85);
      const headSex = r.chance(0.6) ? 'M' : 'F';
      add('02', headSex, age, familyName);
      const child = r.chance(0.5) ? 'M' : 'F';
      add(child === 'M' ? '20' : '30', child, age - r.int(22, 36), headSex === 'M' ? familyName : undefined);
    } else {
      const maxHead = size >= 5 ? 55 : 80;
      const age = r.int(size === 2 ? 24 : 28, maxHead);
      const headMale = r.chance(0.75);
      add('02', headMale ? 'M' : 'F', age, familyName);
      const spouseAge = age + (headMale ? -r.int(-1, 5) : r.int(-1, 5));
      add('10', headMale ? 'F' : 'M', spouseAge, headMale ? undefined : familyName);
      let extra = size - 2;
      if (size >= 5) {
        add('51', 'M', age + r.int(24, 32), headMale ? familyName : undefined);
        extra--;
        if (extra > 1) { add('52', 'F', age + r.int(22, 30)); extra--; }
      }
      for (let i = 0; i < extra; i++) {
        const sex = r.chance(0.52) ? 'M' : 'F';
        add(sex === 'M' ? '20' : '30', sex, Math.max(0, age - r.int(22, 38)), familyName);
      }
    }
    // Special groups. 低保 by household, more often in villages and for people living alone.
    const head = h.members[0]!;
    const alone = h.members.length === 1;
    const dibao = r.chance(alone && head.age >= 60 ? 0.06 : village ? 0.035 : 0.018);
    for (const p of h.members) {
      if (dibao) p.flags.push('dibao');
      if (alone && p.age >= 65) p.flags.push('elderly_alone');
      if (alone && !dibao && p.age >= 60 && r.chance(0.05)) p.flags.push('tekun');
      if (p.age >= 16 && r.chance(0.0045)) p.flags.push('mental_disorder');
      if (p.age >= 18 && p.age <= 65 && r.chance(p.sex === 'M' ? 0.0012 : 0.0003)) p.flags.push('correction');
    }
    return h;
  }

  private person(r: Random, h: Household, relation: Relation, sex: 'M' | 'F', age: number, surname: string, migrant: boolean): Person {
    this.personSerial++;
    const birthYear = this.asOfYear - age;
    const doy = r.int(0, 364);
    const birth = new Date(Date.UTC(birthYear, 0, 1 + doy));
    // Nobody is born after the as-of date.
    const asOfDate = new Date(`${this.asOf}T00:00:00Z`);
    if (birth > asOfDate) birth.setUTCFullYear(birthYear - 1);
    const birthDate = birth.toISOString().slice(0, 10);
    const region = this.birthRegion(r, h.grid.community.street.district.code, birth.getUTCFullYear(), migrant);
    const idNumber = this.idNumber(region, birthDate, sex);
    let phone: string | null = null;
    if (age >= 16) {
      const roll = r.next();
      phone = age >= 70 ? (roll < 0.65 ? pickMobile(r) : roll < 0.9 ? pickLandline(r) : null) : roll < 0.97 ? pickMobile(r) : null;
    }
    const ethnicity = r.weighted([['01', 970], ['04', 10], ['07', 7], ['33', 3], ['03', 5], ['15', 5]] as const);
    return {
      id: `P${String(this.personSerial).padStart(8, '0')}`,
      idNumber, name: surname + pickGivenName(r, sex, birth.getUTCFullYear()), sex, birthDate, phone,
      household: h, relation, ethnicity, hukou: migrant ? 'migrant' : 'local', flags: [], age,
    };
  }

  private birthRegion(r: Random, district: string, birthYear: number, migrant: boolean): string {
    if (migrant) {
      if (r.chance(0.6)) return r.pick(this.sichuanOther);
      return r.pick(this.byProvince.get(r.weighted(OTHER_PROVINCES)) ?? this.sichuanOther);
    }
    const home = r.chance(0.85) ? district : r.pick(this.geo.districts).code;
    const renamed = RENAMED[home];
    // The number is issued at first registration: before the renaming, it carries the old code.
    if (renamed && birthYear < renamed[1]) return renamed[0];
    return home;
  }

  /** A valid number unique in the population: the sequence is counted per (region, birth date, sex). */
  private idNumber(region: string, birthDate: string, sex: 'M' | 'F'): string {
    const day = Math.round(Date.parse(`${birthDate}T00:00:00Z`) / 86_400_000) + 40_000; // days since ~1860
    const key = (Number(region) * 100_000 + day) * 2 + (sex === 'M' ? 1 : 0);
    const n = this.seqBuckets.get(key) ?? 0;
    this.seqBuckets.set(key, n + 1);
    const start = hash32(String(key)) % 400; // do not start every bucket at 001
    const seq = ((start + n) % 500) * 2 + (sex === 'M' ? 1 : 0);
    return generateIdNumber(region, birthDate, seq, sex);
  }
}

/** Which grids hold the demo population, and how many persons each. */
export function populatedGrids(geo: Geography, seed: number, persons: number): { grid: GeoGrid; persons: number }[] {
  const households = persons / 2.6;
  const total = geo.communities.length;
  const k = Math.min(total, Math.max(Math.min(6, total), Math.ceil(households / 2000)));
  // Weighted sampling without replacement (Efraimidis–Spirakis): the central districts fill first.
  const r = new Random(`${seed}:populated`);
  const chosen = geo.communities
    .map((c) => ({ c, key: Math.pow(r.next(), 1 / c.street.district.weight) }))
    .sort((a, b) => b.key - a.key)
    .slice(0, k)
    .map((x) => x.c)
    .sort((a, b) => (a.code < b.code ? -1 : 1));
  const grids = chosen.flatMap((c) => c.grids);
  const base = Math.floor(persons / grids.length);
  const extra = persons % grids.length;
  return grids.map((grid, i) => ({ grid, persons: base + (i < extra ? 1 : 0) })).filter((x) => x.persons > 0);
}
