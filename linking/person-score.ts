import { editDistance } from './text';
import { birthDateInRawId, swappedDate, type PersonFeatures } from './person-features';

/**
 * Pairwise scoring of a person mention against one record already linked to a candidate person, as a sum of
 * evidence weights (log-odds-like points: agreement adds, disagreement subtracts). A candidate person's score
 * is the best over its records. The thresholds and the reasoning behind the weights are in docs/linking.md.
 */
export const LINK_THRESHOLD = 9;
export const REVIEW_THRESHOLD = 5;
/** Two candidates closer than this, both above the link threshold: ambiguous, sent to review. */
export const AMBIGUITY_MARGIN = 1;
/** Two different valid ID numbers: never the same person. */
export const CONFLICT = -100;

export interface Evidence {
  name?: 'same' | 'homophone' | 'reordered' | 'dialect' | 'typo' | 'different';
  birthDate?: 'same' | 'swapped' | 'near' | 'different';
  sex?: 'same' | 'different';
  phone?: 'same' | 'different';
  place?: 'same' | 'different';
  group?: 'same';
  idNumber?: 'same' | 'near' | 'different' | 'conflict';
}

export interface PairScore {
  score: number;
  evidence: Evidence;
}

/**
 * A syllable as southwestern and southern Mandarin speakers blur it (模糊音): zh/z, ch/c, sh/s, n/l, f/h,
 * huang/wang, -ing/-in, -eng/-en, -ang/-an. Clerks write what they hear.
 */
export function fuzzySyllable(s: string): string {
  return s
    .replace(/^huang/, 'wang')
    .replace(/^(z|c|s)h/, '$1')
    .replace(/^n/, 'l')
    .replace(/^f/, 'h')
    .replace(/ing$/, 'in')
    .replace(/eng$/, 'en')
    .replace(/ang$/, 'an');
}

function nameScore(a: PersonFeatures, b: PersonFeatures, ev: Evidence, idAgrees: boolean): number {
  if (!a.pinyin || !b.pinyin) return 0;
  if (a.name && b.name && a.name === b.name) { ev.name = 'same'; return 4; }
  const pa = a.pinyin.replace(/ /g, '');
  const pb = b.pinyin.replace(/ /g, '');
  if (pa === pb) { ev.name = 'homophone'; return 3.2; }
  const sa = a.pinyin.split(' ');
  const sb = b.pinyin.split(' ');
  // A romanised name written given-name first ("Wei ZHANG").
  if (sa.length === sb.length && [...sa].sort().join() === [...sb].sort().join()) { ev.name = 'reordered'; return 3; }
  // One character written differently: a dialect homophone (黄/王, 林/宁), a look-alike (王/玉), a slip.
  if (a.name && b.name && a.name.length === b.name.length && a.name.length >= 2 && sa.length === sb.length) {
    let diff = -1;
    for (let i = 0; i < a.name.length; i++) {
      if (a.name[i] !== b.name[i]) { if (diff >= 0) { diff = -2; break; } diff = i; }
    }
    if (diff >= 0) {
      // Siblings and twins often share all but one character (字辈 names: 浩然 / 浩宇): a one-character
      // difference is a clerk's slip only when the ID number says it is the same person.
      const near = fuzzySyllable(sa[diff] ?? '') === fuzzySyllable(sb[diff] ?? '');
      ev.name = near ? 'dialect' : 'typo';
      if (!idAgrees) return -3;
      return near ? 2.5 : a.name.length >= 3 ? 1.5 : 1;
    }
  }
  ev.name = 'different';
  return -5;
}

function birthScore(a: PersonFeatures, b: PersonFeatures, ev: Evidence): number {
  if (!a.birthDate || !b.birthDate) return 0;
  if (a.birthDate === b.birthDate) { ev.birthDate = 'same'; return 4; }
  if (swappedDate(a.birthDate) === b.birthDate) { ev.birthDate = 'swapped'; return 3; }
  const diff = editDistance(a.birthDate, b.birthDate);
  if (diff === 1) { ev.birthDate = 'near'; return 1; }
  ev.birthDate = 'different';
  return -4;
}

function idScore(a: PersonFeatures, b: PersonFeatures, ev: Evidence): number {
  if (a.idNumber && b.idNumber) {
    if (a.idNumber === b.idNumber) { ev.idNumber = 'same'; return 10; }
    ev.idNumber = 'conflict';
    return CONFLICT;
  }
  const x = a.idNumber ?? a.idNumberRaw;
  const y = b.idNumber ?? b.idNumberRaw;
  if (!x || !y) return 0;
  if (x === y) { ev.idNumber = 'same'; return 5; }
  // Only the check character differs: region, birth date and sequence all agree.
  if (x.length === 18 && y.length === 18 && x.slice(0, 17) === y.slice(0, 17)) { ev.idNumber = 'near'; return 6; }
  const d = x.length === y.length ? editDistance(x, y) : 99;
  if (d <= 2) { ev.idNumber = 'near'; return 4; }
  ev.idNumber = 'different';
  return -3;
}

export function scorePair(a: PersonFeatures, b: PersonFeatures): PairScore {
  const ev: Evidence = {};
  let score = idScore(a, b, ev);
  if (score <= CONFLICT) return { score, evidence: ev };
  score += nameScore(a, b, ev, score > 0);
  score += birthScore(a, b, ev);
  if (a.sex && b.sex) {
    if (a.sex === b.sex) { ev.sex = 'same'; score += 1; } else { ev.sex = 'different'; score -= 3; }
  }
  if (a.phone && b.phone) {
    if (a.phone === b.phone) { ev.phone = 'same'; score += 3; } else { ev.phone = 'different'; score -= 0.5; }
  }
  if (a.groupKey && b.groupKey && a.groupKey === b.groupKey) { ev.group = 'same'; score += 5; }
  if (a.placeKey && b.placeKey) {
    if (a.placeKey === b.placeKey) { ev.place = 'same'; score += 2; } else { ev.place = 'different'; score -= 0.5; }
  }
  return { score, evidence: ev };
}

/** The birth dates under which a mention is looked up: its own, day/month swapped, and one an invalid ID carries. */
export function lookupBirthDates(f: PersonFeatures): string[] {
  // At most three dates: an array (no Set per mention).
  const out: string[] = [];
  if (f.birthDate) {
    out.push(f.birthDate);
    const s = swappedDate(f.birthDate);
    if (s) out.push(s);
  }
  if (f.idNumberRaw) {
    const d = birthDateInRawId(f.idNumberRaw);
    if (d && !out.includes(d)) out.push(d);
  }
  return out;
}
