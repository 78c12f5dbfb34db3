import { pinyin, polyphonic } from 'pinyin-pro';
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
    syllables = singleReadings(name) ?? pinyin(name, { toneType: 'none', type: 'array', surname: 'head', v: true })
      .map(plainSyllable)
      .filter(Boolean);
  } else {
    syllables = name.toLowerCase().split(/[\s\-_.·]+/).map((s) => s.replace(/[^a-z]/g, '')).filter(Boolean);
  }
  if (pinyinCache.size > 200_000) pinyinCache.clear();
  pinyinCache.set(name, syllables);
  return syllables;
}

function plainSyllable(s: string): string {
  return s.toLowerCase().replace(/[^a-z]/g, '');
}

/** Per Han character: its one toneless reading, or null when it has several (多音字). */
const singleReading = new Map<string, string | null>();
const ONE_HAN = /^\p{Script=Han}$/u;

/**
 * The syllables of a name whose characters are all Han with one toneless reading each: then neither the surname
 * mode nor word context can change a reading, and the name is read character by character (a map look-up each;
 * the full conversion costs some microseconds per name, and most names of a city are new to the process).
 * Null when any character is not such: the full conversion reads it.
 */
function singleReadings(name: string): string[] | null {
  const out: string[] = [];
  for (const c of name) {
    let r = singleReading.get(c);
    if (r === undefined) {
      r = null;
      if (ONE_HAN.test(c)) {
        const readings = new Set((polyphonic(c, { toneType: 'none', type: 'array', v: true })[0] ?? []).map(plainSyllable));
        if (readings.size === 1) r = [...readings][0] || null;
      }
      singleReading.set(c, r);
    }
    if (r === null) return null;
    out.push(r);
  }
  return out;
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
