import { blockNameGroup, blockNamePlace, blockNameYear, blockSurnameBirth, personFeatures, type PersonFeatures } from './person-features';
import { lookupBirthDates } from './person-score';
import type { PersonMention } from './types';

/**
 * A person mention normalised: its features and blocking keys, computed from the seven values of its source and
 * nothing else. Pure and free of I/O, so it runs on the linking thread (linking/normalise-thread.ts) as well as in
 * the batch; shared between the items of mentions written alike, never changed.
 */
export interface Normalised {
  f: PersonFeatures;
  /** storedKeys(f), and lookupKeys(f) (the same array when the look-up adds no birth date). */
  stored: string[];
  lookup: string[];
  /** What it was computed from, when computed in this thread (recent results are found by it); null when received. */
  from: NormaliseSource | null;
}

/** What a mention's features are computed from: name, sex, birth date, ID number, phone, place key, group key. */
export type NormaliseSource = readonly [PersonMention['name'], PersonMention['sex'], PersonMention['birthDate'],
  PersonMention['idNumber'], PersonMention['phone'], string | null, PersonMention['groupKey']];

/**
 * The sources of a batch's mentions as one flat list, SOURCE_WIDTH values a mention in NormaliseSource's order: one array
 * for a batch instead of one per mention (sent to the linking thread, kept with mentions prepared ahead until their
 * batch takes them: long enough for the garbage collector to copy every small array twice).
 */
export type SourceList = Array<NormaliseSource[number]>;
export const SOURCE_WIDTH = 7;

export function sourceList(mentions: readonly PersonMention[], placeKeys: ReadonlyArray<string | null>, at?: readonly number[]): SourceList {
  const out: SourceList = [];
  const n = at ? at.length : mentions.length;
  for (let j = 0; j < n; j++) {
    const i = at ? at[j]! : j;
    const m = mentions[i]!;
    out.push(m.name, m.sex, m.birthDate, m.idNumber, m.phone, placeKeys[i]!, m.groupKey);
  }
  return out;
}

/** The i-th mention's source in a SourceList. */
export function sourceAt(list: SourceList, i: number): NormaliseSource {
  const b = i * SOURCE_WIDTH;
  return [list[b], list[b + 1], list[b + 2], list[b + 3], list[b + 4], list[b + 5], list[b + 6]] as NormaliseSource;
}

/** Whether the i-th source of `list` is what the mention holds now. */
export function sameSourceAt(list: SourceList, i: number, m: PersonMention, placeKey: string | null): boolean {
  const b = i * SOURCE_WIDTH;
  return list[b] === m.name && list[b + 1] === m.sex && list[b + 2] === m.birthDate && list[b + 3] === m.idNumber
    && list[b + 4] === m.phone && list[b + 5] === placeKey && list[b + 6] === m.groupKey;
}

function sameValues(a: NormaliseSource, b: NormaliseSource): boolean {
  return a[0] === b[0] && a[1] === b[1] && a[2] === b[2] && a[3] === b[3] && a[4] === b[4] && a[5] === b[5] && a[6] === b[6];
}

/** The blocking keys a record is stored under (core.person_keys, one row per key and person). */
export function storedKeys(r: PersonFeatures): string[] {
  const keys: string[] = [];
  if (r.pinyin && r.birthDate) keys.push(`sb:${blockSurnameBirth(r.pinyin, r.birthDate)}`, `nb:${blockNameYear(r.pinyin, r.birthDate)}`);
  if (r.pinyin && r.placeKey) keys.push(`np:${blockNamePlace(r.pinyin, r.placeKey)}`);
  if (r.phone) keys.push(`ph:${r.phone}`);
  if (r.idNumberRaw) keys.push(`raw:${r.idNumberRaw}`);
  if (r.pinyin && r.groupKey) keys.push(`ng:${blockNameGroup(r.pinyin, r.groupKey)}`);
  return keys;
}

/** The keys a mention looks candidates up by: its stored keys, with the swapped and ID-borne birth dates. */
export function lookupKeys(f: PersonFeatures): string[] {
  return lookupKeysFrom(f, storedKeys(f));
}

function lookupKeysFrom(f: PersonFeatures, stored: string[]): string[] {
  const dates = f.pinyin ? lookupBirthDates(f) : [];
  if (!dates.length || (dates.length === 1 && dates[0] === f.birthDate)) return stored;
  const keys = new Set(stored);
  for (const d of dates) { keys.add(`sb:${blockSurnameBirth(f.pinyin!, d)}`); keys.add(`nb:${blockNameYear(f.pinyin!, d)}`); }
  return [...keys];
}

export function normaliseFrom(from: NormaliseSource): Normalised {
  const f = personFeatures({ name: from[0], sex: from[1], birthDate: from[2], idNumber: from[3], phone: from[4], groupKey: from[6] }, from[5]);
  const stored = storedKeys(f);
  return { f, stored, lookup: lookupKeysFrom(f, stored), from };
}

/**
 * Recent mentions by what they are computed from: a person's records repeat within a batch and the next (twenty
 * care visits written alike). Found by ID number and name (no signature string to build and hash per mention),
 * then compared on the rest. Bounded, emptied when full. One per thread.
 */
const recent = new Map<unknown, Map<unknown, Normalised>>();
let recentSize = 0;
const RECENT_MAX = 20_000;

/** normaliseFrom, or the result for the same values from a recent mention. */
export function normaliseRecent(from: NormaliseSource): Normalised {
  let byName = recent.get(from[3]);
  const r = byName?.get(from[0]);
  if (r?.from && sameValues(r.from, from)) return r;
  const v = normaliseFrom(from);
  if (recentSize >= RECENT_MAX) { recent.clear(); recentSize = 0; byName = undefined; }
  if (!byName) recent.set(from[3], (byName = new Map()));
  if (!r) recentSize++;
  byName.set(from[0], v);
  return v;
}

/**
 * Normalised results as one flat list for a message between threads (structured clone copies a flat list of
 * strings faster than objects holding them): per mention either the index of an earlier mention of the same list
 * it equals, as -1 - index, or the nine features, the stored keys (count, keys) and the look-up keys (-1 when
 * they are the stored keys, else count, keys). A feature equal to a value of the mention's own source (a name, date,
 * ID number or phone already in normal form, the place and group keys) is sent as that value's index in the source
 * (0 to 6): the receiver has the sources, and takes its own string instead of a copy (about a fifth of what the
 * batch's thread kept of each result, docs/linking.md round 17).
 */
export type NormalisedWire = Array<string | number | null>;

/** Per feature, in the wire's order, the source value (its index in NormaliseSource) it often equals; -1 for none. */
const FEATURE_SOURCE = [0, -1, 1, 2, 4, 3, 3, 5, 6] as const;

/** The k-th feature (the wire's order) of the mention whose source starts at b: its value, or its source value's index. */
function pushFeature(out: NormalisedWire, v: string | null, k: number, sources: SourceList, b: number): void {
  const s = FEATURE_SOURCE[k]!;
  out.push(v !== null && s >= 0 && sources[b + s] === v ? s : v);
}

export function encodeNormalised(list: readonly Normalised[], sources: SourceList): NormalisedWire {
  const out: NormalisedWire = [];
  const first = new Map<Normalised, number>();
  list.forEach((n, i) => {
    const earlier = first.get(n);
    if (earlier !== undefined) { out.push(-1 - earlier); return; }
    first.set(n, i);
    const f = n.f;
    const b = i * SOURCE_WIDTH;
    pushFeature(out, f.name, 0, sources, b); pushFeature(out, f.pinyin, 1, sources, b); pushFeature(out, f.sex, 2, sources, b);
    pushFeature(out, f.birthDate, 3, sources, b); pushFeature(out, f.phone, 4, sources, b); pushFeature(out, f.idNumber, 5, sources, b);
    pushFeature(out, f.idNumberRaw, 6, sources, b); pushFeature(out, f.placeKey, 7, sources, b); pushFeature(out, f.groupKey, 8, sources, b);
    out.push(n.stored.length);
    for (const key of n.stored) out.push(key);
    if (n.lookup === n.stored) { out.push(-1); return; }
    out.push(n.lookup.length);
    for (const key of n.lookup) out.push(key);
  });
  return out;
}

/** The inverse of encodeNormalised, given the sources the list was made from (in the same order). */
export function decodeNormalised(wire: NormalisedWire, sources: SourceList): Normalised[] {
  const out: Normalised[] = [];
  const count = sources.length / SOURCE_WIDTH;
  let k = 0;
  let b = 0;
  // A feature: its value, or the index of the source value it equals.
  const feature = () => { const v = wire[k++]!; return typeof v === 'number' ? sources[b + v] as string | null : v; };
  const keys = (n: number) => { const a = wire.slice(k, k + n) as string[]; k += n; return a; };
  for (let i = 0; i < count; i++) {
    b = i * SOURCE_WIDTH;
    const head = wire[k]!;
    if (typeof head === 'number' && head < 0) { k++; out.push(out[-1 - head]!); continue; }
    const f: PersonFeatures = {
      name: feature(), pinyin: feature(), sex: feature() as PersonFeatures['sex'], birthDate: feature(), phone: feature(),
      idNumber: feature(), idNumberRaw: feature(), placeKey: feature(), groupKey: feature(),
    };
    const stored = keys(wire[k++] as number);
    const l = wire[k++] as number;
    out.push({ f, stored, lookup: l < 0 ? stored : keys(l), from: null });
  }
  if (k !== wire.length) throw new Error(`normalised list: ${wire.length - k} values left over after ${count} mentions`);
  return out;
}
