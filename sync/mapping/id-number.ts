/**
 * 公民身份号码 (GB 11643-1999) normalisation for the mapping step: full-width and lower-case `x` fixed,
 * a legacy 15-digit number upgraded to 18 digits (century 19, check digit computed), the check digit and
 * the birth date verified. The raw value is always kept beside the normalised one (`*_raw`).
 */
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK = '10X98765432';

export function checkDigit(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * WEIGHTS[i]!;
  return CHECK[sum % 11]!;
}

function validBirth(yyyymmdd: string): boolean {
  const y = Number(yyyymmdd.slice(0, 4));
  const m = Number(yyyymmdd.slice(4, 6));
  const d = Number(yyyymmdd.slice(6, 8));
  if (y < 1880 || m < 1 || m > 12 || d < 1) return false;
  if (d > new Date(Date.UTC(y, m, 0)).getUTCDate()) return false;
  return Date.UTC(y, m - 1, d) <= Date.now();
}

export type IdNumberResult = { ok: true; value: string } | { ok: false; reason: string };

/** Normalise and validate an ID number (already trimmed and half-width). */
export function normaliseIdNumber(input: string): IdNumberResult {
  const s = input.replace(/[\s-]/g, '').toUpperCase();
  if (/^\d{15}$/.test(s)) {
    const first17 = `${s.slice(0, 6)}19${s.slice(6, 15)}`;
    if (!validBirth(first17.slice(6, 14))) return { ok: false, reason: `invalid birth date ${first17.slice(6, 14)} in 15-digit ID number` };
    return { ok: true, value: first17 + checkDigit(first17) };
  }
  if (!/^\d{17}[\dX]$/.test(s)) return { ok: false, reason: `an ID number has 18 characters (17 digits and a digit or X) or 15 digits; got ${s.length} characters` };
  if (!validBirth(s.slice(6, 14))) return { ok: false, reason: `invalid birth date ${s.slice(6, 14)} in ID number` };
  const expected = checkDigit(s.slice(0, 17));
  if (s[17] !== expected) return { ok: false, reason: `check digit is ${s[17]}, expected ${expected}` };
  return { ok: true, value: s };
}
