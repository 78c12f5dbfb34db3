import { HubError } from '../platform/errors';
import { isProvinceCode, regionCodeStatus } from './divisions';

/**
 * 公民身份号码, the resident ID number of GB 11643-1999.
 *
 * 18 digits: region code (6, GB/T 2260, the place of registration when issued) + birth date YYYYMMDD (8) +
 * sequence (3, odd for men, even for women) + check character (ISO 7064 MOD 11-2, `0`-`9` or `X`).
 * Legacy 15-digit numbers (issued until 1999): region (6) + birth date YYMMDD in the 1900s (6) + sequence (3),
 * no check digit; `upgradeIdNumber15to18` turns one into its 18-digit form.
 *
 * The API other parts use:
 *  - `normaliseIdNumber(raw)`    how the number should be written (half-width, upper-case X, no separators);
 *  - `validateIdNumber(raw)`     whether it is valid, and why not, with the birth date and sex it carries;
 *  - `upgradeIdNumber15to18(id)` the 18-digit form of a 15-digit number;
 *  - `canonicalIdNumber(raw)`    the valid 18-digit number for any valid input (15 upgraded), else null;
 *  - `idCheckDigit(first17)` / `generateIdNumber(...)` for making numbers (demo data, tests).
 */

/** Weights 2^(17-i) mod 11 of ISO 7064 MOD 11-2 over the first 17 digits. */
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
/** Check character for (sum of weighted digits) mod 11. */
const CHECK_CHARS = '10X98765432';

/** The ISO 7064 MOD 11-2 check character of the first 17 digits of an 18-digit number. */
export function idCheckDigit(first17: string): string {
  if (!/^\d{17}$/.test(first17)) {
    throw new HubError('TL_ERR_BAD_USER_INPUT', `idCheckDigit needs exactly 17 digits, got "${first17}"`);
  }
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += (first17.charCodeAt(i) - 48) * WEIGHTS[i]!;
  return CHECK_CHARS[sum % 11]!;
}

/** A number written plainly: 15 digits, or 17 digits and a check character (normaliseIdNumber's fast path). */
const PLAIN_ID = /^(?:\d{15}|\d{17}[\dXx])$/;

/**
 * How the number should be written: trimmed; full-width digits and letters (０-９, Ｘ) made half-width;
 * spaces (including the ideographic space) and dashes removed; `x` upper-cased. Anything else is kept, so
 * that validation can say what is wrong with it.
 */
export function normaliseIdNumber(raw: string | null | undefined): string {
  if (raw == null) return '';
  // Most numbers arrive already plain: 15 or 18 ASCII characters, at most a lower-case check character.
  if (typeof raw === 'string' && PLAIN_ID.test(raw)) return raw.charCodeAt(17) === 120 ? `${raw.slice(0, 17)}X` : raw;
  let out = '';
  for (const ch of String(raw)) {
    const code = ch.codePointAt(0)!;
    if (code >= 0xff01 && code <= 0xff5e) {
      // Full-width ASCII block → ASCII (０ → 0, Ｘ → X, ｘ → x, － → -).
      out += String.fromCharCode(code - 0xfee0);
    } else {
      out += ch;
    }
  }
  return out.replace(/[\s\u3000\u00a0\-\u2010-\u2015\u2212]/g, '').replace(/x/g, 'X');
}

export type IdNumberProblem = 'structure' | 'region' | 'birthDate' | 'checkDigit';

export interface IdNumberValidation {
  /** True when the number is well-formed, its province is real, its birth date a real past date and (18) its check digit right. */
  valid: boolean;
  /** The normalised form of the input (see normaliseIdNumber), whether valid or not. */
  normalised: string;
  /** 18, 15, or null when the structure is wrong. */
  length: 18 | 15 | null;
  /** What is wrong, in order: structure, region, birthDate, checkDigit. Empty when valid. */
  reasons: IdNumberProblem[];
  /** Birth date YYYY-MM-DD when the structure is right and the date real. */
  birthDate: string | null;
  sex: 'M' | 'F' | null;
  regionCode: string | null;
  /** `current` / `historical` GB/T 2260 code, or `unknown` (a real province but a code not in our tables). */
  regionStatus: 'current' | 'historical' | 'unknown' | null;
  /** The check character the first 17 digits call for (18-digit input). */
  expectedCheckDigit: string | null;
  /** The valid 18-digit form: the input itself, or a valid 15-digit number upgraded. Null when invalid. */
  canonical: string | null;
}

export interface ValidateOptions {
  /** Birth dates after this day are rejected. Default: now. */
  today?: Date;
}

const EARLIEST_BIRTH_YEAR = 1880;

function realDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  const d = new Date(Date.UTC(year, month - 1, day));
  return d.getUTCFullYear() === year && d.getUTCMonth() === month - 1 && d.getUTCDate() === day;
}

/** What the division table says of a region code, per code (a few thousand exist; numbers repeat them). */
const regions = new Map<string, { status: IdNumberValidation['regionStatus']; province: boolean }>();

function regionOf(code: string): { status: IdNumberValidation['regionStatus']; province: boolean } {
  let r = regions.get(code);
  if (!r) {
    r = { status: regionCodeStatus(code), province: isProvinceCode(code) };
    if (regions.size < 100_000) regions.set(code, r);
  }
  return r;
}

/** Validate an ID number as written anywhere (normalised first). Never throws. */
export function validateIdNumber(raw: string | null | undefined, options: ValidateOptions = {}): IdNumberValidation {
  const normalised = normaliseIdNumber(raw);
  const result: IdNumberValidation = {
    valid: false, normalised, length: null, reasons: [], birthDate: null, sex: null,
    regionCode: null, regionStatus: null, expectedCheckDigit: null, canonical: null,
  };
  let year: number;
  let month: number;
  let day: number;
  let seq: string;
  if (/^\d{17}[\dX]$/.test(normalised)) {
    result.length = 18;
    year = Number(normalised.slice(6, 10));
    month = Number(normalised.slice(10, 12));
    day = Number(normalised.slice(12, 14));
    seq = normalised.slice(14, 17);
  } else if (/^\d{15}$/.test(normalised)) {
    result.length = 15;
    year = 1900 + Number(normalised.slice(6, 8));
    month = Number(normalised.slice(8, 10));
    day = Number(normalised.slice(10, 12));
    seq = normalised.slice(12, 15);
  } else {
    result.reasons.push('structure');
    return result;
  }

  const region = normalised.slice(0, 6);
  result.regionCode = region;
  const known = regionOf(region);
  result.regionStatus = known.status;
  // Codes change (districts merge, counties become districts) while the numbers stay: only a province that
  // does not exist makes a number invalid; `regionStatus` tells a caller how sure the rest of the code is.
  if (!known.province) result.reasons.push('region');

  const today = options.today ?? new Date();
  const todayKey = today.getUTCFullYear() * 10000 + (today.getUTCMonth() + 1) * 100 + today.getUTCDate();
  if (realDate(year, month, day) && year >= EARLIEST_BIRTH_YEAR && year * 10000 + month * 100 + day <= todayKey) {
    result.birthDate = `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
  } else {
    result.reasons.push('birthDate');
  }

  result.sex = (seq.charCodeAt(2) - 48) % 2 === 1 ? 'M' : 'F';

  if (result.length === 18) {
    result.expectedCheckDigit = idCheckDigit(normalised.slice(0, 17));
    if (result.expectedCheckDigit !== normalised[17]) result.reasons.push('checkDigit');
  }

  result.valid = result.reasons.length === 0;
  if (result.valid) {
    result.canonical = result.length === 18 ? normalised : upgradeIdNumber15to18(normalised);
  }
  return result;
}

/**
 * The 18-digit form of a legacy 15-digit number: the birth year gets its century (19) and the check digit
 * is appended. Throws TL_ERR_BAD_USER_INPUT when the input (after normalising) is not 15 digits.
 */
export function upgradeIdNumber15to18(id15: string): string {
  const n = normaliseIdNumber(id15);
  if (!/^\d{15}$/.test(n)) {
    throw new HubError('TL_ERR_BAD_USER_INPUT', `upgradeIdNumber15to18: expected 15 digits, got "${id15}"`);
  }
  const first17 = `${n.slice(0, 6)}19${n.slice(6)}`;
  return first17 + idCheckDigit(first17);
}

/** The valid 18-digit number for any valid input (15-digit numbers upgraded), or null. What linking keys on. */
export function canonicalIdNumber(raw: string | null | undefined): string | null {
  return validateIdNumber(raw).canonical;
}

/**
 * Make a valid number. `region` a 6-digit code, `birthDate` YYYY-MM-DD, `seq` the 3-digit sequence (0-999):
 * its last digit is forced odd for 'M' and even for 'F' by flipping the lowest bit when needed.
 * `length: 15` makes a legacy number (birth year must be 19xx).
 */
export function generateIdNumber(region: string, birthDate: string, seq: number, sex: 'M' | 'F', length: 18 | 15 = 18): string {
  if (!/^\d{6}$/.test(region)) throw new HubError('TL_ERR_BAD_USER_INPUT', `generateIdNumber: region must be 6 digits, got "${region}"`);
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(birthDate);
  if (!m || !realDate(Number(m[1]), Number(m[2]), Number(m[3]))) {
    throw new HubError('TL_ERR_BAD_USER_INPUT', `generateIdNumber: birthDate must be a real YYYY-MM-DD date, got "${birthDate}"`);
  }
  if (!Number.isInteger(seq) || seq < 0 || seq > 999) {
    throw new HubError('TL_ERR_BAD_USER_INPUT', `generateIdNumber: seq must be an integer 0-999, got ${seq}`);
  }
  const wantOdd = sex === 'M';
  const s = (seq % 2 === 1) === wantOdd ? seq : seq ^ 1;
  const seq3 = String(s).padStart(3, '0');
  if (length === 15) {
    if (m[1]!.slice(0, 2) !== '19') throw new HubError('TL_ERR_BAD_USER_INPUT', `generateIdNumber: a 15-digit number needs a birth year 19xx, got ${m[1]}`);
    return `${region}${m[1]!.slice(2)}${m[2]}${m[3]}${seq3}`;
  }
  const first17 = `${region}${m[1]}${m[2]}${m[3]}${seq3}`;
  return first17 + idCheckDigit(first17);
}

/** Mask for display without `pii:read`: `110105********0123` (first 6, last 4). */
export function maskIdNumber(id: string): string {
  const n = normaliseIdNumber(id);
  if (n.length < 10) return '*'.repeat(n.length);
  return n.slice(0, 6) + '*'.repeat(n.length - 10) + n.slice(-4);
}
