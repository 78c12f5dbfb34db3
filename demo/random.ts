/**
 * Deterministic randomness for the demo generator. Every stream of random numbers is derived from the seed and
 * a label (`rng(seed, 'grid', gridCode)`), so a grid, a person or a live change is reproducible on its own and
 * the generator's output does not depend on the order things happen to be computed in.
 */

/** 32-bit FNV-1a of a string, then mixed: a stable hash for labels and seeds. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number | string) {
    const s = typeof seed === 'number' ? String(seed) : seed;
    this.a = hash32(`${s}#a`);
    this.b = hash32(`${s}#b`);
    this.c = hash32(`${s}#c`);
    this.d = hash32(`${s}#d`) | 1;
    for (let i = 0; i < 12; i++) this.next();
  }

  /** sfc32: a small, fast generator with good statistical quality. Returns [0, 1). */
  next(): number {
    this.a >>>= 0; this.b >>>= 0; this.c >>>= 0; this.d >>>= 0;
    let t = (this.a + this.b) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.d = (this.d + 1) | 0;
    t = (t + this.d) | 0;
    this.c = (this.c + t) | 0;
    return (t >>> 0) / 4294967296;
  }

  /** Integer in [min, max], both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (!items.length) throw new Error('Random.pick: empty list');
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** Pick by weights (need not sum to 1). */
  weighted<T>(items: readonly (readonly [T, number])[]): T {
    let total = 0;
    for (const [, w] of items) total += w;
    let r = this.next() * total;
    for (const [item, w] of items) {
      r -= w;
      if (r < 0) return item;
    }
    return items[items.length - 1]![0];
  }

  /** Approximately normal (Irwin–Hall of 4), mean and standard deviation. */
  normal(mean: number, sd: number): number {
    const u = this.next() + this.next() + this.next() + this.next() - 2;
    return mean + u * sd * Math.sqrt(3);
  }

  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    return items;
  }
}

/** A random stream for one labelled thing under a seed. */
export function rng(seed: number, ...labels: (string | number)[]): Random {
  return new Random(`${seed}:${labels.join(':')}`);
}

/** A cumulative table for fast weighted picks from a long, fixed list (surnames, characters). */
export class WeightedTable<T> {
  private readonly cumulative: Float64Array;
  private readonly total: number;

  constructor(private readonly items: readonly (readonly [T, number])[]) {
    this.cumulative = new Float64Array(items.length);
    let sum = 0;
    items.forEach(([, w], i) => { sum += w; this.cumulative[i] = sum; });
    this.total = sum;
  }

  pick(r: Random): T {
    const x = r.next() * this.total;
    let lo = 0;
    let hi = this.cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cumulative[mid]! > x) hi = mid; else lo = mid + 1;
    }
    return this.items[lo]![0];
  }
}
