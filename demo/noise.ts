import { generateIdNumber, idCheckDigit } from '../domain/id-number';
import type { Dwelling, Geography } from './geography';
import { homophoneVariant, lookalikeVariant } from './names';
import type { Random } from './random';

/**
 * The noise real department data has, applied at configurable rates, with a record of what was applied
 * (the ground truth says which record carries which noise, so linking quality can be explained, not only
 * measured). Rates are per person mention (a name + ID number + phone written in one record) unless noted.
 */
export interface NoiseRates {
  /** A character of the name replaced by a homophone (张伟 → 张玮). */
  nameHomophone: number;
  /** A character replaced by a look-alike or traditional form (王 → 玉, 陈 → 陳). */
  nameLookalike: number;
  /** ID number with a wrong or missing check character (or two sequence digits swapped). */
  idCheckDigit: number;
  /** ID number left empty (not in the registers, whose ID column is mandatory). */
  idMissing: number;
  /** The legacy 15-digit number written, for persons born before 1985 (outside the police registers). */
  id15: number;
  /** Phone, sex or birth date left empty, where the source has such a column. */
  fieldMissing: number;
  /** Address written in a variant of the department's usual form (号/栋/幢, district dropped, 四川省 added ...). */
  addressVariant: number;
  /** A record entered twice under a second key (per record). */
  duplicate: number;
  /** Trailing (or leading) spaces in a name or ID number. */
  trailingSpace: number;
  /** Full-width digits/letters in an ID number or phone (１１０１...). */
  fullWidth: number;
}

export const DEFAULT_NOISE: Readonly<NoiseRates> = Object.freeze({
  nameHomophone: 0.03,
  nameLookalike: 0.01,
  idCheckDigit: 0.015,
  idMissing: 0.06,
  id15: 0.25,
  fieldMissing: 0.05,
  addressVariant: 0.3,
  duplicate: 0.01,
  trailingSpace: 0.03,
  fullWidth: 0.01,
});

export type NoiseKind = keyof NoiseRates;

/** The person behind a mention, as the truth knows them. */
export interface TruePerson {
  id: string;
  idNumber: string;
  name: string;
  sex: 'M' | 'F';
  birthDate: string;
  phone: string | null;
}

/** A person as one record writes them, and the noise that went into it. */
export interface WrittenPerson {
  name: string;
  idNumber: string | null;
  phone: string | null;
  sex: 'M' | 'F' | null;
  birthDate: string | null;
  noise: NoiseKind[];
}

export interface MentionOptions {
  /** The source's ID column is mandatory (the police registers): no idMissing, no 15-digit numbers. */
  register?: boolean;
}

/** Write a person the way one record of a department would, applying noise at the configured rates. */
export function writePerson(r: Random, rates: NoiseRates, p: TruePerson, options: MentionOptions = {}): WrittenPerson {
  const noise: NoiseKind[] = [];
  let name = p.name;
  if (r.chance(rates.nameHomophone)) {
    const v = homophoneVariant(r, name);
    if (v !== name) { name = v; noise.push('nameHomophone'); }
  } else if (r.chance(rates.nameLookalike)) {
    const v = lookalikeVariant(r, name);
    if (v !== name) { name = v; noise.push('nameLookalike'); }
  }

  let idNumber: string | null = p.idNumber;
  if (!options.register && r.chance(rates.idMissing)) {
    idNumber = null;
    noise.push('idMissing');
  } else if (!options.register && p.birthDate < '1985-01-01' && r.chance(rates.id15)) {
    idNumber = p.idNumber.slice(0, 6) + p.idNumber.slice(8, 17);
    noise.push('id15');
  } else if (r.chance(rates.idCheckDigit)) {
    const right = idCheckDigit(p.idNumber.slice(0, 17));
    const wrong = r.pick([...'0123456789X'].filter((c) => c !== right));
    // A wrong last character (45%), two digits of the sequence swapped (40%), or the check character left
    // off (15%: the 17 digits a form with too few boxes leaves).
    const roll = r.next();
    idNumber = roll < 0.45 ? p.idNumber.slice(0, 17) + wrong : roll < 0.85 ? swapDigits(r, p.idNumber) : p.idNumber.slice(0, 17);
    noise.push('idCheckDigit');
  }

  let phone = p.phone;
  let sex: 'M' | 'F' | null = p.sex;
  let birthDate: string | null = p.birthDate;
  if (r.chance(rates.fieldMissing)) {
    const which = r.int(0, 2);
    if (which === 0) phone = null; else if (which === 1) sex = null; else birthDate = null;
    noise.push('fieldMissing');
  }
  if (idNumber && r.chance(rates.fullWidth)) {
    idNumber = toFullWidth(idNumber);
    noise.push('fullWidth');
  }
  if (r.chance(rates.trailingSpace)) {
    if (idNumber && r.chance(0.5)) idNumber = `${idNumber}${r.pick([' ', '  ', '\u3000'])}`;
    else name = `${name}${r.pick([' ', '  ', '\u3000'])}`;
    noise.push('trailingSpace');
  }
  return { name, idNumber, phone, sex, birthDate, noise };
}

function swapDigits(r: Random, id: string): string {
  // Swap the first two digits of the sequence code (positions 15-16): region, birth date and the sex digit
  // stay right, only the check character no longer fits. Equal digits: a wrong last character instead.
  const s = id.slice(0, 14) + id[15] + id[14] + id.slice(16);
  if (id[14] !== id[15] && idCheckDigit(s.slice(0, 17)) !== s[17]) return s;
  const right = idCheckDigit(id.slice(0, 17));
  return id.slice(0, 17) + r.pick([...'0123456789X'].filter((c) => c !== right));
}

export function toFullWidth(text: string): string {
  return text.replace(/[0-9A-Za-z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));
}

/** Make a valid number for a person (re-exported so the generator imports ID logic from one place). */
export { generateIdNumber };

// ---------------------------------------------------------------------------------------------------------
// Addresses as each department writes them

export type AddressStyle = 'police' | 'civil' | 'justice' | 'petition';

const CN_NUM = ['零', '一', '二', '三', '四', '五', '六', '七', '八', '九', '十'];

/**
 * An address in a department's usual style, with a variant at the configured rate:
 *  - police (一标三实 standard): 成都市锦江区白果林街19号1栋1单元1203号
 *  - civil:   锦江区水井坊社区白果林街19号1幢1单元1203室
 *  - justice: 锦官驿街道水井坊社区白果林街19号1-1-1203
 *  - petition (as the petitioner says it): 成都市锦江区白果林街19号1栋1203
 * Variants: 号/栋/幢/号楼/附N号, no city, no district, everything down to 四川省, the 小区 name instead of
 * road and number (水井坊社区锦绣花园三栋2单元1203), full-width digits.
 */
export function writeAddress(r: Random, rates: NoiseRates, geo: Geography, d: Dwelling, style: AddressStyle): { text: string; variant: boolean } {
  const c = d.grid.community;
  const district = c.street.district.name;
  const street = c.street.name;
  const variant = r.chance(rates.addressVariant);
  let text: string;
  if (d.group !== null) {
    const place = `${c.name}${d.group}组${d.number}号`;
    switch (style) {
      case 'police': text = `${geo.cityName}${district}${street}${place}`; break;
      case 'civil': text = `${district}${street}${place}`; break;
      case 'justice': text = `${street}${place}`; break;
      default: text = `${district}${street}${c.name}${d.group}社${d.number}号`; // 组 is still called 社 by many
    }
    if (variant) {
      text = r.pick([
        () => `四川省${geo.cityName}${district}${street}${place}`,
        () => `${street}${place}`,
        () => text.replace(/(\d+)组/, (_, g: string) => `${CN_NUM[Number(g)] ?? g}组`),
        () => toFullWidth(text),
      ])();
    }
    return { text, variant };
  }
  const road = `${d.road}${d.number}号`;
  const b = d.building!;
  const u = d.unit!;
  const room = d.room!;
  switch (style) {
    case 'police': text = `${geo.cityName}${district}${road}${b}栋${u}单元${room}号`; break;
    case 'civil': text = `${district}${c.name}${road}${b}幢${u}单元${room}室`; break;
    case 'justice': text = `${street}${c.name}${road}${b}-${u}-${room}`; break;
    default: text = `${geo.cityName}${district}${road}${b}栋${room}`;
  }
  if (variant) {
    const options: (() => string)[] = [
      () => `${district}${road}${b}栋${u}单元${room}室`,                         // no city
      () => `${road}${b}幢${u}单元${room}`,                                      // no district, 幢
      () => `四川省${geo.cityName}${district}${street}${c.name}${road}${b}栋${u}单元${room}室`, // everything
      () => `${geo.cityName}${road}${b}号楼${u}单元${room}`,                      // 号楼
      () => `${district}${road}附${b}号${u}单元${room}号`,                         // 附N号 for the building
      () => `${c.name}${d.compound}${b <= 10 ? CN_NUM[b] : b}栋${u}单元${room}`,  // community + 小区 name, no road
      () => toFullWidth(`${district}${road}${b}栋${u}单元${room}室`),             // full-width digits
    ];
    text = r.pick(options)();
  }
  return { text, variant };
}
