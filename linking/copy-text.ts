import { from as copyFrom } from 'pg-copy-streams';
import type { PoolClient } from '../platform/db';

/**
 * COPY … FROM STDIN in text format (tab-separated, \N for null, UTF-8), written value by value straight into
 * buffers: no string per row or per value is built and thrown away (building lines and joining them made
 * hundreds of megabytes of garbage per 100,000 linked mentions, and the collector's time with it).
 */
export class CopyText {
  private buf: Buffer;
  private at = 0;
  private lineStart = true;
  private readonly full: Buffer[] = [];

  constructor(private readonly chunkSize = 128 * 1024) {
    this.buf = Buffer.allocUnsafe(chunkSize);
  }

  /** A value that may hold anything (names, addresses, keys a department wrote): backslash, tab, CR, LF escaped. */
  text(v: string | null | undefined): this {
    if (v == null) return this.plain(null);
    return this.plain(ESCAPED.test(v) ? v.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r') : v);
  }

  /** A value that cannot hold a backslash, tab, CR or LF (UUIDs, codes, digits, dates, numbers made here). */
  plain(v: string | number | null | undefined): this {
    const s = v == null ? '\\N' : typeof v === 'string' ? v : String(v);
    // At most 3 bytes per UTF-16 unit, and the separator.
    if (this.at + s.length * 3 + 2 > this.buf.length) this.spill(s.length * 3 + 2);
    if (!this.lineStart) this.buf[this.at++] = 9;
    this.lineStart = false;
    this.at += this.buf.write(s, this.at, 'utf8');
    return this;
  }

  /** Ends the row. */
  end(): void {
    if (this.at + 1 > this.buf.length) this.spill(1);
    this.buf[this.at++] = 10;
    this.lineStart = true;
  }

  /** Bytes written and not yet taken. */
  get size(): number {
    return this.at + this.full.reduce((n, b) => n + b.length, 0);
  }

  /** The text written so far, as buffers (the writer starts afresh). */
  take(): Buffer[] {
    const out = this.full.splice(0);
    if (this.at) {
      out.push(this.buf.subarray(0, this.at));
      this.buf = Buffer.allocUnsafe(this.chunkSize);
      this.at = 0;
    }
    return out;
  }

  private spill(need: number): void {
    if (this.at) this.full.push(this.buf.subarray(0, this.at));
    this.buf = Buffer.allocUnsafe(Math.max(this.chunkSize, need));
    this.at = 0;
  }
}

const ESCAPED = /[\\\t\n\r]/;

/** Bytes of COPY text per chunk: the database ingests one chunk while the next is made. */
const COPY_CHUNK = 128 * 1024;

/**
 * A COPY … FROM STDIN queued on the connection now (behind the statements sent before it), its text made chunk
 * by chunk with a turn of the event loop between chunks: chunks made while earlier statements run wait in the
 * stream, later ones go out as they are made. Settles when the COPY is done or has failed.
 */
export function copyRows<T>(client: PoolClient, table: string, columns: readonly string[], rows: Iterable<T>,
  encode: (r: T, out: CopyText) => void): Promise<void> {
  const stream = client.query(copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN`));
  const done = new Promise<void>((resolve, reject) => { stream.once('finish', resolve); stream.once('error', reject); });
  void (async () => {
    const out = new CopyText(COPY_CHUNK);
    for (const r of rows) {
      encode(r, out);
      out.end();
      if (out.size >= COPY_CHUNK) {
        if (stream.destroyed) return;
        for (const b of out.take()) stream.write(b);
        await nextTurn();
      }
    }
    if (stream.destroyed) return;
    for (const b of out.take()) stream.write(b);
    stream.end();
  })().catch((err: unknown) => stream.destroy(err as Error));
  return done;
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
