/**
 * Text clean-up for source values. Chinese systems mix full-width forms (ＡＢＣ１２３，全角空格) into
 * fields that should be plain ASCII (ID numbers, phones, codes); names and addresses must otherwise stay
 * exactly as written.
 */

/** Full-width ASCII variants (U+FF01–U+FF5E) and the ideographic space (U+3000) → their half-width forms. */
export function toHalfWidth(value: string): string {
  let out = '';
  let changed = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 0xff01 && c <= 0xff5e) {
      out += String.fromCharCode(c - 0xfee0);
      changed = true;
    } else if (c === 0x3000) {
      out += ' ';
      changed = true;
    } else {
      out += value[i];
    }
  }
  return changed ? out : value;
}

/** Trim, including the ideographic space and zero-width characters some exports carry. */
export function trimAll(value: string): string {
  return value.replace(/^[\s\u3000\u200b\ufeff]+|[\s\u3000\u200b\ufeff]+$/g, '');
}
