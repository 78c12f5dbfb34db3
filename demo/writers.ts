import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { once } from 'node:events';
import iconv from 'iconv-lite';

/**
 * Buffered file writers for the generator: lines are collected in memory up to ~1 MB, then written with
 * back-pressure (`flush` awaits the stream's drain), so a million-person run keeps a small, bounded footprint.
 */
export class LineWriter {
  private readonly stream: WriteStream;
  private buffer: string[] = [];
  private size = 0;
  lines = 0;

  constructor(readonly file: string, private readonly encoding: 'utf8' | 'gbk' = 'utf8') {
    this.stream = createWriteStream(file);
  }

  static async open(file: string, encoding: 'utf8' | 'gbk' = 'utf8'): Promise<LineWriter> {
    await mkdir(path.dirname(file), { recursive: true });
    return new LineWriter(file, encoding);
  }

  write(line: string): void {
    this.buffer.push(line, '\n');
    this.size += line.length + 1;
    this.lines++;
  }

  get pending(): number {
    return this.size;
  }

  async flush(): Promise<void> {
    if (!this.buffer.length) return;
    const text = this.buffer.join('');
    this.buffer = [];
    this.size = 0;
    const data = this.encoding === 'gbk' ? iconv.encode(text, 'gbk') : text;
    if (!this.stream.write(data)) await once(this.stream, 'drain');
  }

  async close(): Promise<void> {
    await this.flush();
    await new Promise<void>((resolve, reject) => this.stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
  }
}

/** A CSV field (RFC 4180): quoted when it holds a comma, quote, CR/LF or leading/trailing space. Null → empty. */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  const s = String(value);
  if (s === '') return '""'; // empty string, not NULL, for COPY
  return /[",\r\n]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvLine(values: readonly unknown[]): string {
  return values.map(csvField).join(',');
}

/** A field for MySQL/MariaDB LOAD DATA (tab-separated, `\N` for NULL, backslash escapes). */
export function tsvField(value: unknown): string {
  if (value === null || value === undefined) return '\\N';
  const s = String(value);
  if (!/[\\\t\n\r]/.test(s)) return s;
  return s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}

export function tsvLine(values: readonly unknown[]): string {
  return values.map(tsvField).join('\t');
}
