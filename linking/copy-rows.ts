import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import type { PoolClient } from '../platform/db';

/**
 * `COPY table (columns) FROM STDIN` in text format (tab-separated, `\N` for null): Chinese text goes through as
 * UTF-8, and no value is quoted element by element as array parameters are. Values are written with String()
 * (numbers as JavaScript prints them, which PostgreSQL reads back to the same float8). Rows go in the order given.
 */
export async function copyRows(client: PoolClient, table: string, columns: readonly string[], rows: unknown[][]): Promise<void> {
  const chunks: Buffer[] = [];
  let parts: string[] = [];
  let length = 0;
  for (const row of rows) {
    let line = '';
    for (let c = 0; c < row.length; c++) line += (c ? '\t' : '') + copyValue(row[c]);
    parts.push(line, '\n');
    length += line.length;
    if (length > 256 * 1024) { chunks.push(Buffer.from(parts.join(''), 'utf8')); parts = []; length = 0; }
  }
  if (parts.length) chunks.push(Buffer.from(parts.join(''), 'utf8'));
  const stream = client.query(copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN`));
  await pipeline(Readable.from(chunks), stream);
}

/** One value in COPY's text format: null as `\N`; backslash, tab, newline and carriage return escaped. */
export function copyValue(v: unknown): string {
  if (v === null || v === undefined) return '\\N';
  const s = typeof v === 'string' ? v : String(v);
  return /[\\\t\n\r]/.test(s) ? s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r') : s;
}
