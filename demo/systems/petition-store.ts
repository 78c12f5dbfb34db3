import { createReadStream, existsSync } from 'node:fs';
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { PetitionRecord } from '../sources/petition';

/**
 * The petition system's store: an append-only JSON-lines log (the last line of a petition number wins),
 * held in memory ordered by (updatedAt, petitionNo) for keyset paging. Tens of thousands of petitions fit
 * comfortably; every change is appended to the log before it is visible, so a restart loses nothing.
 */
export class PetitionStore {
  private readonly byNo = new Map<string, PetitionRecord>();
  /** Ordered by (updatedAt ms, petitionNo). */
  private ordered: { at: number; no: string }[] = [];

  private constructor(readonly file: string) {}

  static async open(file: string): Promise<PetitionStore> {
    const store = new PetitionStore(file);
    await mkdir(path.dirname(file), { recursive: true });
    if (!existsSync(file)) await writeFile(file, '');
    const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
    let n = 0;
    for await (const line of lines) {
      n++;
      if (!line.trim()) continue;
      try {
        const rec = JSON.parse(line) as PetitionRecord;
        store.byNo.set(rec.petitionNo, rec);
      } catch (err) {
        throw new Error(`${file}:${n}: not a JSON petition (${(err as Error).message})`);
      }
    }
    store.ordered = [...store.byNo.values()].map((r) => ({ at: Date.parse(r.updatedAt), no: r.petitionNo }));
    store.ordered.sort(compare);
    return store;
  }

  get size(): number {
    return this.byNo.size;
  }

  get(petitionNo: string): PetitionRecord | undefined {
    return this.byNo.get(petitionNo);
  }

  /** Insert or replace a petition (appended to the log first). */
  async put(rec: PetitionRecord): Promise<void> {
    await appendFile(this.file, `${JSON.stringify(rec)}\n`);
    const old = this.byNo.get(rec.petitionNo);
    if (old) {
      const i = this.indexOf({ at: Date.parse(old.updatedAt), no: old.petitionNo });
      if (i >= 0) this.ordered.splice(i, 1);
    }
    this.byNo.set(rec.petitionNo, rec);
    const entry = { at: Date.parse(rec.updatedAt), no: rec.petitionNo };
    this.ordered.splice(this.lowerBound(entry), 0, entry);
  }

  /** Petitions with updatedAt >= since (ms), in order, after the keyset position `after` if given. */
  slice(options: { since?: number; after?: { at: number; no: string }; offset?: number; limit: number }): { items: PetitionRecord[]; total: number; more: boolean } {
    let start = options.since !== undefined ? this.lowerBound({ at: options.since, no: '' }) : 0;
    const total = this.ordered.length - start;
    if (options.after) start = Math.max(start, this.upperBound(options.after));
    start += options.offset ?? 0;
    const end = Math.min(this.ordered.length, start + options.limit);
    const items = this.ordered.slice(start, end).map((e) => this.byNo.get(e.no)!);
    return { items, total, more: end < this.ordered.length };
  }

  /** Open petitions (not yet evaluated), oldest change first. */
  open(limit: number): PetitionRecord[] {
    const out: PetitionRecord[] = [];
    for (const e of this.ordered) {
      const rec = this.byNo.get(e.no)!;
      if (rec.steps[rec.steps.length - 1]?.step !== '评价') out.push(rec);
      if (out.length >= limit) break;
    }
    return out;
  }

  all(): PetitionRecord[] {
    return this.ordered.map((e) => this.byNo.get(e.no)!);
  }

  private indexOf(e: { at: number; no: string }): number {
    const i = this.lowerBound(e);
    return i < this.ordered.length && this.ordered[i]!.no === e.no ? i : -1;
  }

  private lowerBound(e: { at: number; no: string }): number {
    let lo = 0;
    let hi = this.ordered.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compare(this.ordered[mid]!, e) < 0) lo = mid + 1; else hi = mid;
    }
    return lo;
  }

  private upperBound(e: { at: number; no: string }): number {
    let lo = 0;
    let hi = this.ordered.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compare(this.ordered[mid]!, e) <= 0) lo = mid + 1; else hi = mid;
    }
    return lo;
  }
}

function compare(a: { at: number; no: string }, b: { at: number; no: string }): number {
  return a.at - b.at || (a.no < b.no ? -1 : a.no > b.no ? 1 : 0);
}
