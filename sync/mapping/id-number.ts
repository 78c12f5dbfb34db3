import { validateIdNumber } from '../../domain/id-number';

/**
 * 公民身份号码 (GB 11643-1999) for the mapping step, through domain/id-number.ts: full-width forms and a
 * lower-case `x` fixed, a legacy 15-digit number upgraded to 18 digits, the province, birth date and check
 * digit verified. The raw value is always kept beside the normalised one (`*_raw`).
 */
export type IdNumberResult = { ok: true; value: string } | { ok: false; reason: string };

const REASONS = {
  structure: 'an ID number has 18 characters (17 digits and a digit or X) or 15 digits',
  region: 'no such province code',
  birthDate: 'invalid birth date',
  checkDigit: 'wrong check digit',
} as const;

export function normaliseIdNumber(input: string): IdNumberResult {
  const v = validateIdNumber(input);
  if (v.valid && v.canonical) return { ok: true, value: v.canonical };
  const reasons = v.reasons.map((r) => (r === 'checkDigit' ? `check digit is ${v.normalised[17]}, expected ${v.expectedCheckDigit}` : REASONS[r]));
  return { ok: false, reason: reasons.join('; ') };
}
