/**
 * Times in the demo systems are China Standard Time (UTC+8, no daylight saving), written the way each
 * system writes them. Internally the generator works with epoch milliseconds.
 */
const CST = 8 * 3600_000;

const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));

/**
 * `YYYY-MM-DDTHH:mm:ss` in local time. Hand-rolled (days → civil date, H. Hinnant's algorithm) because the
 * generator formats millions of times and `Date#toISOString` dominated its profile.
 */
function parts(ms: number): string {
  const local = Math.floor((ms + CST) / 1000);
  const days = Math.floor(local / 86400);
  const secs = local - days * 86400;
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  const hh = Math.floor(secs / 3600);
  const mi = Math.floor((secs % 3600) / 60);
  return `${y}-${pad2(m)}-${pad2(d)}T${pad2(hh)}:${pad2(mi)}:${pad2(secs % 60)}`;
}

/** `2026-11-20 14:03:09` (local, no zone): PostgreSQL `timestamp`, MariaDB `DATETIME`, CSV exports. */
export function localDateTime(ms: number): string {
  const s = parts(ms);
  return `${s.slice(0, 10)} ${s.slice(11, 19)}`;
}

/** `2026-11-20T14:03:09+08:00`: ISO 8601 with the offset, for the petition API. */
export function isoCst(ms: number): string {
  return `${parts(ms).slice(0, 19)}+08:00`;
}

/** `2026-11-20` (local date). */
export function localDate(ms: number): string {
  return parts(ms).slice(0, 10);
}

/** `20261120`: the police systems' date columns. */
export function compactDate(ms: number): string {
  return localDate(ms).replace(/-/g, '');
}

/** `2026/11/2`: dates as a spreadsheet exports them (no zero padding). */
export function slashDate(ms: number): string {
  const [y, m, d] = localDate(ms).split('-');
  return `${y}/${Number(m)}/${Number(d)}`;
}

/** Epoch ms of a local date `YYYY-MM-DD` at 00:00 CST. */
export function fromLocalDate(date: string): number {
  return Date.parse(`${date}T00:00:00+08:00`);
}

export const DAY = 86_400_000;
export const HOUR = 3_600_000;
