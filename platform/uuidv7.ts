import { randomFillSync } from 'node:crypto';

/**
 * Ids of new rows the hub makes in bulk (department rows and events in sync, persons and places in linking): UUID
 * version 7 (RFC 9562) — 48 bits of Unix milliseconds, then 74 random bits (12 of them a counter that keeps ids
 * made in the same millisecond in order).
 *
 * Why not random (v4) ids: every primary key and `core.events (source_table, source_id)` is a B-tree, and random
 * keys land on random leaf pages — a 10,000-row batch dirtied pages all over four growing indexes (and wrote them
 * out again under memory pressure); a linking batch's new persons landed on a random page each of core.persons'
 * primary key and of core.person_records' person index. Time-ordered keys append to the right edge of the index.
 * They are still ordinary uuids to everything that reads them; what they reveal is when the hub first stored the
 * row (the row says so itself in `_synced_at` / `created_at`), and they are not guessable (62 random bits per id
 * and a random counter start).
 *
 * Made with one string allocation each (the 36 characters written into a buffer, read once as Latin-1): a linking
 * run makes about 85,000 of them, and concatenating two-digit pieces made some twenty short-lived strings per id.
 */
const pool = Buffer.alloc(16 * 1024);
let offset = pool.length;
let lastMs = -1;
let counter = 0;

function randomBytes(n: number): Buffer {
  if (offset + n > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const b = pool.subarray(offset, offset + n);
  offset += n;
  return b;
}

/** ASCII codes of the hex digits. */
const HEX = Buffer.from('0123456789abcdef', 'latin1');
/** The id as it is written: 8-4-4-4-12 hex digits; the dashes stay, the digits are overwritten. */
const text = Buffer.from('00000000-0000-0000-0000-000000000000', 'latin1');
/** Where each of the 16 bytes' two hex digits go in `text`. */
const AT = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];

function put(i: number, byte: number): void {
  const at = AT[i]!;
  text[at] = HEX[byte >>> 4]!;
  text[at + 1] = HEX[byte & 0xf]!;
}

export function uuidv7(now: number = Date.now()): string {
  const r = randomBytes(10);
  if (now > lastMs) {
    lastMs = now;
    counter = ((r[0]! << 8) | r[1]!) & 0x7ff; // random start in the lower half: room to count up
  } else {
    counter++;
    if (counter > 0xfff) {
      // 4,096 ids in one millisecond: borrow the next millisecond (stays ordered and unique).
      lastMs++;
      counter = 0;
    }
  }
  const ms = lastMs;
  put(0, Math.floor(ms / 2 ** 40) & 0xff);
  put(1, Math.floor(ms / 2 ** 32) & 0xff);
  put(2, (ms >>> 24) & 0xff);
  put(3, (ms >>> 16) & 0xff);
  put(4, (ms >>> 8) & 0xff);
  put(5, ms & 0xff);
  put(6, 0x70 | (counter >>> 8));
  put(7, counter & 0xff);
  put(8, 0x80 | (r[2]! & 0x3f));
  for (let i = 9; i < 16; i++) put(i, r[i - 6]!);
  return text.toString('latin1', 0, 36);
}
