/**
 * Date and time parsing for source values. Departments write dates every way there is: `20240105`,
 * `2024-01-05`, `2024/1/5`, Excel serial numbers (45296), epoch milliseconds, ISO strings with or without a
 * zone. A wall-clock time without a zone is read in the mapping's time zone (Asia/Shanghai by default:
 * UTC+8, no daylight saving since 1991).
 */
export const DATE_FORMATS = ['auto', 'YYYYMMDD', 'YYYY-MM-DD', 'YYYY/M/D', 'YYYY.M.D', 'YYYY年M月D日', 'YYYYMMDDHHmmss', 'YYYY-MM-DD HH:mm:ss', 'iso', 'excel', 'epoch_ms', 'epoch_s'] as const;
export type DateFormat = (typeof DATE_FORMATS)[number];

const ZONES: Record<string, number> = { 'Asia/Shanghai': 480, 'Asia/Chongqing': 480, 'Asia/Harbin': 480, 'Asia/Urumqi': 360, UTC: 0, 'Etc/UTC': 0 };

/** Offset from UTC in minutes of a zone name (`Asia/Shanghai`, `UTC`) or a fixed offset (`+08:00`). */
export function zoneOffsetMinutes(zone: string): number | null {
  if (zone in ZONES) return ZONES[zone]!;
  const m = /^([+-])(\d{2}):?(\d{2})$/.exec(zone);
  if (!m) return null;
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
}

/** Broken-down wall-clock time as read from the source. */
interface Parts { y: number; mo: number; d: number; h: number; mi: number; s: number; ms: number; offset?: number }

const EXCEL_EPOCH_MS = Date.UTC(1899, 11, 30); // Excel's day 0 (with its 1900 leap-year bug absorbed)

function daysInMonth(y: number, mo: number): number {
  if (mo === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return mo === 4 || mo === 6 || mo === 9 || mo === 11 ? 30 : 31;
}

function valid(p: Parts): boolean {
  if (p.y < 1000 || p.y > 9999 || p.mo < 1 || p.mo > 12 || p.d < 1 || p.h > 23 || p.mi > 59 || p.s > 60) return false;
  return p.d <= daysInMonth(p.y, p.mo);
}

/** `n` ASCII digits of `s` from `at` as a number, or -1 when one of them is not a digit. */
function digits(s: string, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** YYYYMMDD (8) and YYYYMMDDHHmmss (14): fixed-width digits, read without a regular expression. */
function fixedDigits(s: string, withTime: boolean): Parts | null {
  if (s.length !== (withTime ? 14 : 8)) return null;
  const y = digits(s, 0, 4);
  const mo = digits(s, 4, 2);
  const d = digits(s, 6, 2);
  if (y < 0 || mo < 0 || d < 0) return null;
  let h = 0;
  let mi = 0;
  let sec = 0;
  if (withTime) {
    h = digits(s, 8, 2);
    mi = digits(s, 10, 2);
    sec = digits(s, 12, 2);
    if (h < 0 || mi < 0 || sec < 0) return null;
  }
  const p: Parts = { y, mo, d, h, mi, s: sec, ms: 0 };
  return valid(p) ? p : null;
}

function fromEpoch(ms: number, offsetMin: number): Parts {
  const d = new Date(ms + offsetMin * 60_000);
  return { y: d.getUTCFullYear(), mo: d.getUTCMonth() + 1, d: d.getUTCDate(), h: d.getUTCHours(), mi: d.getUTCMinutes(), s: d.getUTCSeconds(), ms: d.getUTCMilliseconds(), offset: offsetMin };
}

const RE: Record<string, RegExp> = {
  YYYYMMDD: /^(\d{4})(\d{2})(\d{2})$/,
  'YYYY-MM-DD': /^(\d{4})-(\d{2})-(\d{2})$/,
  'YYYY/M/D': /^(\d{4})\/(\d{1,2})\/(\d{1,2})$/,
  'YYYY.M.D': /^(\d{4})\.(\d{1,2})\.(\d{1,2})$/,
  'YYYY年M月D日': /^(\d{4})年(\d{1,2})月(\d{1,2})日$/,
  YYYYMMDDHHmmss: /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/,
  'YYYY-MM-DD HH:mm:ss': /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?$/,
  // ISO 8601 and the common `2024/1/5 8:03:00` with optional zone.
  iso: /^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/,
};

function parseWith(format: DateFormat, raw: unknown, zoneMin: number): Parts | null {
  if (raw instanceof Date) return Number.isNaN(raw.getTime()) ? null : fromEpoch(raw.getTime(), zoneMin);
  if (format === 'excel' || format === 'epoch_ms' || format === 'epoch_s') {
    const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^-?\d+(\.\d+)?$/.test(raw.trim()) ? Number(raw) : NaN;
    if (!Number.isFinite(n)) return null;
    if (format === 'excel') {
      // A serial is a wall-clock date (+ fraction of a day) with no zone.
      if (n < 1 || n > 2_958_465) return null;
      const p = fromEpoch(EXCEL_EPOCH_MS + Math.round(n * 86_400_000), 0);
      delete p.offset;
      return p;
    }
    return fromEpoch(format === 'epoch_s' ? n * 1000 : n, zoneMin);
  }
  const s = typeof raw === 'string' ? raw.trim() : typeof raw === 'number' && format === 'YYYYMMDD' ? String(raw) : null;
  if (s === null) return null;
  if (format === 'auto') {
    for (const f of ['YYYYMMDD', 'YYYYMMDDHHmmss', 'iso', 'YYYY.M.D', 'YYYY年M月D日'] as const) {
      const p = parseWith(f, s, zoneMin);
      if (p) return p;
    }
    return null;
  }
  if (format === 'YYYYMMDD' || format === 'YYYYMMDDHHmmss') return fixedDigits(s, format === 'YYYYMMDDHHmmss');
  const m = RE[format]?.exec(s);
  if (!m) return null;
  const p: Parts = { y: +m[1]!, mo: +m[2]!, d: +m[3]!, h: +(m[4] ?? 0), mi: +(m[5] ?? 0), s: +(m[6] ?? 0), ms: 0 };
  if (format === 'iso') {
    p.ms = m[7] ? Math.round(Number(`0.${m[7]}`) * 1000) : 0;
    if (m[8]) p.offset = m[8] === 'Z' ? 0 : zoneOffsetMinutes(m[8].length === 5 ? `${m[8].slice(0, 3)}:${m[8].slice(3)}` : m[8])!;
  }
  return valid(p) ? p : null;
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

export interface ParsedTime { date: string; timestamp: string }

/**
 * Parse `raw` with the first of `formats` that fits. Returns the calendar date (`YYYY-MM-DD`, as written)
 * and the instant (ISO 8601 UTC), or null when no format fits.
 */
export function parseDateTime(raw: unknown, formats: readonly DateFormat[], zone = 'Asia/Shanghai'): ParsedTime | null {
  const zoneMin = zoneOffsetMinutes(zone) ?? 480;
  const utc = parseInstant(raw, formats, zoneMin);
  return utc === null ? null : { date: localDate(utc, zoneMin), timestamp: new Date(utc).toISOString() };
}

/** The instant (UTC milliseconds) `raw` names with the first of `formats` that fits, or null. */
function parseInstant(raw: unknown, formats: readonly DateFormat[], zoneMin: number): number | null {
  for (const f of formats) {
    const p = parseWith(f, raw, zoneMin);
    if (!p) continue;
    const offset = p.offset ?? zoneMin;
    return Date.UTC(p.y, p.mo - 1, p.d, p.h, p.mi, p.s, p.ms) - offset * 60_000;
  }
  return null;
}

/** The calendar date (`YYYY-MM-DD`) of an instant in the zone `zoneMin`. */
function localDate(utc: number, zoneMin: number): string {
  const d = new Date(utc + zoneMin * 60_000);
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

/**
 * parseDateTime compiled for one field: the zone resolved once, and only the form the column needs built —
 * the calendar date (`date` columns) or the ISO 8601 UTC instant (timestamps). Same results as parseDateTime.
 */
export function compileDateParser(formats: readonly DateFormat[], zone: string, want: 'date' | 'timestamp'): (raw: unknown) => string | null {
  const zoneMin = zoneOffsetMinutes(zone) ?? 480;
  const list = [...formats];
  if (want === 'date') {
    return (raw) => {
      const utc = parseInstant(raw, list, zoneMin);
      return utc === null ? null : localDate(utc, zoneMin);
    };
  }
  return (raw) => {
    const utc = parseInstant(raw, list, zoneMin);
    return utc === null ? null : new Date(utc).toISOString();
  };
}
