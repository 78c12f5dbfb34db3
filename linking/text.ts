import { pinyin } from 'pinyin-pro';
import { toHalfWidth } from '../domain/half-width';

/**
 * Text normalisation shared by person and place linking: full-width forms to ASCII, whitespace, pinyin.
 * Chinese text is data: nothing here changes a Han character, it only removes layout noise around it.
 */

/** Full-width forms to half-width: one implementation for sync's mapping and linking (domain/half-width.ts). */
export { toHalfWidth };

const HAN = /\p{Script=Han}/u;

export function hasHan(value: string): boolean {
  return HAN.test(value);
}

/** A person's name as compared: half-width, no spaces or middle dots for Han names, trimmed. */
export function normaliseName(value: string | null | undefined): string | null {
  if (value == null) return null;
  let v = toHalfWidth(value).trim();
  if (!v) return null;
  if (hasHan(v)) v = v.replace(/[\s·•.]/g, '');
  else v = v.replace(/\s+/g, ' ').toLowerCase();
  return v || null;
}

const pinyinCache = new Map<string, string[]>();

/**
 * Toneless pinyin syllables of a name, surname mode (单 shan, 曾 zeng as surnames). A romanised name
 * ("ZHANG Wei", "Zhang Wei") is split into its syllables as written.
 */
export function namePinyin(name: string): string[] {
  const cached = pinyinCache.get(name);
  if (cached) return cached;
  let syllables: string[];
  if (hasHan(name)) {
    syllables = pinyin(name, { toneType: 'none', type: 'array', surname: 'head', v: true })
      .map((s) => s.toLowerCase().replace(/[^a-z]/g, ''))
      .filter(Boolean);
  } else {
    syllables = name.toLowerCase().split(/[\s\-_.·]+/).map((s) => s.replace(/[^a-z]/g, '')).filter(Boolean);
  }
  if (pinyinCache.size > 200_000) pinyinCache.clear();
  pinyinCache.set(name, syllables);
  return syllables;
}

/** Phone numbers to digits: mobile numbers without the +86 / 0086 prefix; null when nothing usable. */
export function normalisePhone(value: string | null | undefined): string | null {
  if (value == null) return null;
  let digits = toHalfWidth(value).replace(/\D/g, '');
  if (digits.length === 13 && digits.startsWith('86')) digits = digits.slice(2);
  if (digits.length === 15 && digits.startsWith('0086')) digits = digits.slice(4);
  if (digits.length < 7) return null;
  return digits;
}

/** Edit distance (Levenshtein) of two short strings. */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  const al = a.length;
  const bl = b.length;
  if (!al) return bl;
  if (!bl) return al;
  let prev = new Array<number>(bl + 1);
  let cur = new Array<number>(bl + 1);
  for (let j = 0; j <= bl; j++) prev[j] = j;
  for (let i = 1; i <= al; i++) {
    cur[0] = i;
    for (let j = 1; j <= bl; j++) {
      const cost = a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1;
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[bl]!;
}
