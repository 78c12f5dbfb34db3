/**
 * Text clean-up for source values. Chinese systems mix full-width forms (ＡＢＣ１２３，全角空格) into
 * fields that should be plain ASCII (ID numbers, phones, codes); names and addresses must otherwise stay
 * exactly as written.
 *
 * Both functions (toHalfWidth lives in domain/, shared with linking) run for most fields of every row, so they scan
 * character codes and return the input itself when there is nothing to change (no new string, no regular expression).
 */

export { toHalfWidth } from '../../domain/half-width';

/**
 * The characters trimAll removes: JavaScript's `\s` (white space and line terminators: TAB, LF, VT, FF, CR,
 * space, U+00A0, U+1680, U+2000–U+200A, U+2028, U+2029, U+202F, U+205F, U+3000, U+FEFF) and the zero-width
 * space U+200B.
 */
export function isTrimmed(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d);
  if (c < 0xa0) return false;
  return c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200b) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f
    || c === 0x3000 || c === 0xfeff;
}

/** Trim, including the ideographic space and zero-width characters some exports carry. */
export function trimAll(value: string): string {
  const n = value.length;
  let start = 0;
  while (start < n && isTrimmed(value.charCodeAt(start))) start++;
  let end = n;
  while (end > start && isTrimmed(value.charCodeAt(end - 1))) end--;
  return start === 0 && end === n ? value : value.slice(start, end);
}
