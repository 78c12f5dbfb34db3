/**
 * Times in the demo systems are China Standard Time (UTC+8, no daylight saving), written the way each
 * system writes them. Internally the generator works with epoch milliseconds.
 */
const CST = 8 * 3600_000;

function parts(ms: number): string {
  return new Date(ms + CST).toISOString(); // YYYY-MM-DDTHH:mm:ss.sssZ, shifted to local time
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
