import { setImmediate as nextTurn } from 'node:timers/promises';
import { from as copyFrom } from 'pg-copy-streams';
import { escapeCopyText } from '../platform/copy-text';
import type { PoolClient } from '../platform/db';

/**
 * COPY … FROM STDIN in text format (tab-separated, \N for null, UTF-8), encoded straight into the chunk's buffer as
 * values come: short values (UUIDs, codes, dates, names) by a loop here, which escapes as it goes, longer ones by
 * one native UTF-8 write. Nothing is allocated per value: a rope of the row's values (as before round 17) made a
 * quarter of everything a linking run allocated (a new string per separator and value, then its flattening), and
 * allocation is what brings on the scavenges that copy a batch's live data again and again (docs/linking.md round
 * 17). No array of values per row, no line strings to join (they made hundreds of megabytes of garbage per 100,000
 * linked mentions).
 */
export class CopyText {
  private lineStart = true;
  private buf: Buffer;
  private at = 0;
  private readonly full: Buffer[] = [];
  private fullBytes = 0;

  constructor(private readonly chunkSize = 256 * 1024) {
    this.buf = Buffer.allocUnsafe(chunkSize);
  }

  /** A value that may hold anything (names, addresses, keys a department wrote): backslash, tab, CR, LF escaped. */
  text(v: string | null | undefined): this {
    if (v == null) return this.nul();
    this.separate();
    this.put(v, true);
    return this;
  }

  /** A value that cannot hold a backslash, tab, CR or LF (UUIDs, codes, digits, dates, numbers made here). */
  plain(v: string | number | null | undefined): this {
    if (v == null) return this.nul();
    this.separate();
    this.put(typeof v === 'string' ? v : String(v), false);
    return this;
  }

  /** Ends the row. */
  end(): void {
    this.room(1);
    this.buf[this.at++] = LF;
    this.lineStart = true;
  }

  /** Bytes written and not yet taken. */
  get size(): number {
    return this.fullBytes + this.at;
  }

  /** The text written so far, encoded (the writer starts afresh). */
  take(): Buffer[] {
    const out = this.full.splice(0);
    this.fullBytes = 0;
    if (this.at) {
      out.push(this.buf.subarray(0, this.at));
      this.buf = Buffer.allocUnsafe(this.chunkSize);
      this.at = 0;
    }
    return out;
  }

  private nul(): this {
    this.separate();
    this.room(2);
    this.buf[this.at++] = BACKSLASH;
    this.buf[this.at++] = 0x4e; // N
    return this;
  }

  private separate(): void {
    if (this.lineStart) { this.lineStart = false; return; }
    this.room(1);
    this.buf[this.at++] = TAB;
  }

  /** At least n bytes free in the buffer (a full one is set aside, and a new one begun). */
  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    if (this.at) { this.full.push(this.buf.subarray(0, this.at)); this.fullBytes += this.at; }
    this.buf = Buffer.allocUnsafe(Math.max(this.chunkSize, n));
    this.at = 0;
  }

  /** v in UTF-8 (a lone surrogate as U+FFFD, as Buffer does), escaped when `escape`. At most 3 bytes per UTF-16 unit. */
  private put(v: string, escape: boolean): void {
    const n = v.length;
    this.room(n * 3);
    if (n > NATIVE_FROM) {
      const text = escape ? escapeCopyText(v) : v;
      if (text.length !== n) this.room(text.length * 3);
      this.at += this.buf.write(text, this.at, 'utf8');
      return;
    }
    const b = this.buf;
    let at = this.at;
    for (let i = 0; i < n; i++) {
      let c = v.charCodeAt(i);
      if (c < 0x80) {
        if (escape && (c === BACKSLASH || c === TAB || c === LF || c === CR)) {
          b[at++] = BACKSLASH;
          b[at++] = c === BACKSLASH ? BACKSLASH : c === TAB ? 0x74 : c === LF ? 0x6e : 0x72; // \\ \t \n \r
        } else {
          b[at++] = c;
        }
      } else if (c < 0x800) {
        b[at++] = 0xc0 | (c >> 6);
        b[at++] = 0x80 | (c & 0x3f);
      } else {
        if (c >= 0xd800 && c < 0xe000) {
          const d = i + 1 < n ? v.charCodeAt(i + 1) : 0;
          if (c < 0xdc00 && d >= 0xdc00 && d < 0xe000) {
            const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
            b[at++] = 0xf0 | (cp >> 18);
            b[at++] = 0x80 | ((cp >> 12) & 0x3f);
            b[at++] = 0x80 | ((cp >> 6) & 0x3f);
            b[at++] = 0x80 | (cp & 0x3f);
            i++;
            continue;
          }
          c = 0xfffd;
        }
        b[at++] = 0xe0 | (c >> 12);
        b[at++] = 0x80 | ((c >> 6) & 0x3f);
        b[at++] = 0x80 | (c & 0x3f);
      }
    }
    this.at = at;
  }
}

const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const BACKSLASH = 0x5c;

/**
 * Values longer than this go through one native UTF-8 write (evidence, addresses); shorter ones through the loop,
 * which beat a native call per value on 125,000 link rows (.scratch measurements, docs/linking.md round 17).
 */
const NATIVE_FROM = 24;

/** Bytes of COPY text per chunk: the database ingests one chunk while the next is made. */
const COPY_CHUNK = 128 * 1024;

/**
 * A COPY … FROM STDIN queued on the connection now (behind the statements sent before it), its text made chunk
 * by chunk with a turn of the event loop between chunks: chunks made while earlier statements run wait in the
 * stream, later ones go out as they are made. Settles when the COPY is done or has failed.
 */
export function copyRows<T>(client: PoolClient, table: string, columns: readonly string[], rows: readonly T[],
  encode: (r: T, out: CopyText, i: number) => void): Promise<void> {
  const stream = client.query(copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN`));
  const done = new Promise<void>((resolve, reject) => { stream.once('finish', resolve); stream.once('error', reject); });
  // COPYs queued on one connection are encoded one after the other, in the order the database will read them:
  // interleaved, the one it reads now would get a fraction of this process's time.
  const before = encoding.get(client);
  const encoded = (async () => {
    if (before) await before;
    const out = new CopyText();
    // By index: an iterator in this async function (it awaits between chunks) allocates a result per row.
    for (let i = 0; i < rows.length; i++) {
      encode(rows[i]!, out, i);
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
  })().catch((err: unknown) => { stream.destroy(err as Error); });
  encoding.set(client, encoded);
  return done;
}

/** Per connection: the encoding of the COPY queued last (settles when its text is all made, never rejects). */
const encoding = new WeakMap<PoolClient, Promise<void>>();

