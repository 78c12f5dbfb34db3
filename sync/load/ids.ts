import { randomFillSync } from 'node:crypto';

/**
 * Ids of new department rows and events: UUID version 7 (RFC 9562) — 48 bits of Unix milliseconds, then 74
 * random bits (12 of them a counter that keeps ids made in the same millisecond in order).
 *
 * Why not random (v4) ids: every primary key and `core.events (source_table, source_id)` is a B-tree, and random
 * keys land on random leaf pages — a 10,000-row batch dirtied pages all over four growing indexes (and wrote them
 * out again under memory pressure). Time-ordered keys append to the right edge of the index. They are still
 * ordinary uuids to everything that reads them; what they reveal is when the hub first stored the row (the row
 * says so itself in `_synced_at`), and they are not guessable (62 random bits per id and a random counter start).
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

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

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
  const b = new Array<string>(16);
  b[0] = HEX[Math.floor(ms / 2 ** 40) & 0xff]!;
  b[1] = HEX[Math.floor(ms / 2 ** 32) & 0xff]!;
  b[2] = HEX[(ms >>> 24) & 0xff]!;
  b[3] = HEX[(ms >>> 16) & 0xff]!;
  b[4] = HEX[(ms >>> 8) & 0xff]!;
  b[5] = HEX[ms & 0xff]!;
  b[6] = HEX[0x70 | (counter >>> 8)]!;
  b[7] = HEX[counter & 0xff]!;
  b[8] = HEX[0x80 | (r[2]! & 0x3f)]!;
  for (let i = 9; i < 16; i++) b[i] = HEX[r[i - 6]!]!;
  return `${b[0]}${b[1]}${b[2]}${b[3]}-${b[4]}${b[5]}-${b[6]}${b[7]}-${b[8]}${b[9]}-${b[10]}${b[11]}${b[12]}${b[13]}${b[14]}${b[15]}`;
}
