import { validateIdNumber } from '../domain/id-number';
import { namePinyin, normaliseName, normalisePhone } from './text';
import type { PersonMention } from './types';

/**
 * What linking compares about a person mention, normalised once: these are also the columns of
 * `core.person_records` (migration 0300), so a stored link keeps exactly what it was decided on.
 */
export interface PersonFeatures {
  name: string | null;
  /** Toneless pinyin syllables joined by single spaces. */
  pinyin: string | null;
  sex: 'M' | 'F' | null;
  birthDate: string | null;
  phone: string | null;
  /** A valid, canonical 18-digit ID number (15-digit numbers upgraded). Identity. */
  idNumber: string | null;
  /** An ID number that is not valid, as normalised: evidence only. */
  idNumberRaw: string | null;
  /** The norm_key of the mention's address, when it parses. */
  placeKey: string | null;
  groupKey: string | null;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function normaliseDate(value: string | null | undefined): string | null {
  if (!value) return null;
  const m = DATE.exec(value.trim().slice(0, 10));
  return m ? `${m[1]}-${m[2]}-${m[3]}` : null;
}

/** The date with day and month exchanged, when that is a real date different from it (03-04 ↔ 04-03). */
export function swappedDate(date: string): string | null {
  const m = DATE.exec(date);
  if (!m) return null;
  const [, y, mo, d] = m;
  if (mo === d || Number(d) > 12) return null;
  return `${y}-${d}-${mo}`;
}

export function blockSurnameBirth(pinyin: string, birthDate: string): string {
  const space = pinyin.indexOf(' ');
  return `${space < 0 ? pinyin : pinyin.slice(0, space)}|${birthDate}`;
}

export function blockNameYear(pinyin: string, birthDate: string): string {
  return `${pinyin.replace(/ /g, '')}|${birthDate.slice(0, 4)}`;
}

export function blockNamePlace(pinyin: string, placeKey: string): string {
  return `${pinyin.replace(/ /g, '')}|${placeKey}`;
}

export function blockNameGroup(pinyin: string, groupKey: string): string {
  return `${pinyin.replace(/ /g, '')}|${groupKey}`;
}

/** ID numbers as validated: a person's number recurs in every record of theirs (care visits: dozens). */
const idCache = new Map<string, { valid: boolean; canonical: string | null; birthDate: string | null; sex: 'M' | 'F' | null; normalised: string }>();

function validated(raw: string) {
  let v = idCache.get(raw);
  if (!v) {
    const full = validateIdNumber(raw);
    v = { valid: full.valid, canonical: full.canonical, birthDate: full.birthDate, sex: full.sex, normalised: full.normalised };
    if (idCache.size > 200_000) idCache.clear();
    idCache.set(raw, v);
  }
  return v;
}

/**
 * The blocking keys of a core.person_records row (alias `pr`) in SQL, as linking/person-normalise.ts (storedKeys)
 * makes them in code: a set-returning expression for a FROM list (nulls where a feature is missing). Used by
 * manual merges and splits and by the rebuild of the (unlogged) key tables.
 */
export function recordKeysSql(pr: string): string {
  return `unnest(ARRAY['sb:' || split_part(${pr}.name_pinyin, ' ', 1) || '|' || ${pr}.birth_date::text,
                 'nb:' || replace(${pr}.name_pinyin, ' ', '') || '|' || left(${pr}.birth_date::text, 4),
                 'np:' || replace(${pr}.name_pinyin, ' ', '') || '|' || ${pr}.place_key,
                 'ph:' || ${pr}.phone, 'raw:' || ${pr}.id_number_raw,
                 'ng:' || replace(${pr}.name_pinyin, ' ', '') || '|' || ${pr}.group_key])`;
}

/**
 * An INSERT of (key, person) pairs into a key table (core.person_keys, core.person_open_keys), each pair only where
 * it is not there yet: core.person_keys has a hash index on the key and no unique one (migration 0370), so nothing
 * but this check keeps a pair single. `pairs`: a query yielding the key and the person id, in that order.
 */
export function insertMissingKeysSql(table: string, pairs: string): string {
  return `INSERT INTO ${table} (key, person_id)
    SELECT DISTINCT n.key, n.person_id FROM (${pairs}) AS n(key, person_id)
     WHERE n.key IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ${table} x WHERE x.key = n.key COLLATE "C" AND x.person_id = n.person_id)`;
}

/** What personFeatures reads of a mention (besides its place key). */
export type FeatureSource = Pick<PersonMention, 'name' | 'sex' | 'birthDate' | 'idNumber' | 'phone' | 'groupKey'>;

export function personFeatures(m: FeatureSource, placeKey: string | null): PersonFeatures {
  const name = normaliseName(m.name);
  const syllables = name ? namePinyin(name) : [];
  const pinyin = syllables.length ? syllables.join(' ') : null;
  let idNumber: string | null = null;
  let idNumberRaw: string | null = null;
  let sex: 'M' | 'F' | null = m.sex === 'M' || m.sex === 'F' ? m.sex : null;
  let birthDate = normaliseDate(m.birthDate);
  if (m.idNumber != null && String(m.idNumber).trim() !== '') {
    const v = validated(String(m.idNumber));
    if (v.valid) {
      idNumber = v.canonical;
      // The number is the better source of birth date and sex when the record has none.
      birthDate ??= v.birthDate;
      sex ??= v.sex;
    } else {
      idNumberRaw = v.normalised || null;
    }
  }
  const phone = normalisePhone(m.phone);
  const groupKey = m.groupKey ? String(m.groupKey).trim() || null : null;
  return {
    name, pinyin, sex, birthDate, phone, idNumber, idNumberRaw, placeKey, groupKey,
  };
}

/** Where the ID number, even an invalid one, still carries a plausible birth date: evidence for scoring. */
export function birthDateInRawId(raw: string): string | null {
  const m = /^\d{6}(\d{4})(\d{2})(\d{2})/.exec(raw);
  if (!m) return null;
  const [, y, mo, d] = m;
  const date = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  if (date.getUTCFullYear() !== Number(y) || date.getUTCMonth() !== Number(mo) - 1) return null;
  return `${y}-${mo}-${d}`;
}
