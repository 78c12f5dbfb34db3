import { escapeCopyText as escape } from '../../platform/copy-text';

/**
 * Encoding of values for PostgreSQL `COPY … FROM STDIN` in text format: tab-separated, `\N` for null,
 * backslash escapes for the four characters that would break a line (platform/copy-text.ts).
 */
export function copyValue(v: unknown): string {
  if (v === null || v === undefined) return '\\N';
  if (typeof v === 'string') return escape(v);
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (typeof v === 'boolean') return v ? 't' : 'f';
  if (v instanceof Date) return v.toISOString();
  return escape(JSON.stringify(v));
}

export function copyLine(values: readonly unknown[]): string {
  let line = '';
  for (let i = 0; i < values.length; i++) line += (i ? '\t' : '') + copyValue(values[i]);
  return `${line}\n`;
}
