/**
 * Full-width forms to half-width, for values that should be plain ASCII (ID numbers, phones, codes, house
 * numbers). Chinese systems mix ＡＢＣ１２３ and the ideographic space into them; Han characters are never
 * touched. Used by sync's mapping (every field of every row) and by linking's normalising, so it scans character
 * codes and returns the input itself when nothing changes.
 */

/** Full-width ASCII variants (U+FF01–U+FF5E) and the ideographic space (U+3000) → their half-width forms. */
export function toHalfWidth(value: string): string {
  let i = 0;
  const n = value.length;
  for (; i < n; i++) {
    const c = value.charCodeAt(i);
    if ((c >= 0xff01 && c <= 0xff5e) || c === 0x3000) break;
  }
  if (i === n) return value;
  let out = value.slice(0, i);
  for (; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c >= 0xff01 && c <= 0xff5e) out += String.fromCharCode(c - 0xfee0);
    else if (c === 0x3000) out += ' ';
    else out += value[i];
  }
  return out;
}
