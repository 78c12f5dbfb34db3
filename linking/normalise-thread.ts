import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import {
  decodeNormalised, encodeNormalised, normaliseRecent, sourceAt, SOURCE_WIDTH, type Normalised, type NormalisedWire, type SourceList,
} from './person-normalise';

/**
 * The linking thread: person mentions normalised (names to pinyin, ID numbers validated and upgraded, dates,
 * phones, blocking keys) on a worker thread of the process, so that the thread that links (reads, decides, writes
 * the batch) spends its time on that. Normalising a 125,000-mention run took that thread about 1.5 s of the 6
 * it was busy (CPU profile, docs/linking.md round 11); the copies to and from the worker, about a third of that.
 *
 * The worker computes exactly what the batch would (person-normalise.ts, the same functions), from the seven
 * values a mention's features depend on, sent as one flat list (SourceList); the results come back as flat lists
 * (encodeNormalised) in messages of at most CHUNK mentions, each decoded as it arrives. When the thread cannot be used (switched off with
 * LINKING_THREAD=off, not started, failed or gone), `normalise` returns null and the caller normalises the mentions
 * itself: the results are the same.
 */
export class NormaliseThread {
  private worker: Worker | null = null;
  private failed: Error | null = null;
  private nextId = 1;
  private readonly waiting = new Map<number, { sources: SourceList; resolve: (n: Normalised[]) => void; reject: (e: Error) => void }>();
  /** Mentions and messages sent, for the benchmark. */
  readonly stats = { mentions: 0, messages: 0 };

  /** Starts the worker now (it loads its modules in the background), so the first batch does not wait for that. */
  start(): boolean {
    if (this.worker) return true;
    if (this.failed || !threadAllowed()) return false;
    let w: Worker;
    try {
      w = new Worker(BOOT, { eval: true, workerData: { role: ROLE, entry: __filename }, name: 'tonglan-linking-normalise' });
    } catch (err) {
      this.fail(err as Error);
      return false;
    }
    w.unref();
    w.on('message', (m: { id: number; wire?: NormalisedWire; error?: string }) => this.settle(m));
    w.on('error', (err) => this.fail(err));
    w.on('exit', (code) => { if (this.worker === w) this.fail(new Error(`the linking thread exited (code ${code})`)); });
    this.worker = w;
    return true;
  }

  /** Starts the worker and waits until it answers (its modules loaded); false when the thread cannot be used. */
  async ready(): Promise<boolean> {
    if (!this.start()) return false;
    try {
      await this.send([]);
      return true;
    } catch {
      return false;
    }
  }

  /** The mentions' normalised forms, in order; null when the thread is not available (then normalise here). */
  normalise(sources: SourceList): Promise<Normalised[]> | null {
    if (!this.start()) return null;
    const parts: Array<Promise<Normalised[]>> = [];
    const step = CHUNK * SOURCE_WIDTH;
    for (let i = 0; i < sources.length; i += step) parts.push(this.send(sources.slice(i, i + step)));
    this.stats.mentions += sources.length / SOURCE_WIDTH;
    return Promise.all(parts).then((p) => p.flat());
  }

  /** Ends the worker (tests; a process exits without it, the worker does not hold it). */
  async stop(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
    this.rejectAll(new Error('the linking thread was stopped'));
  }

  /** Why the thread is not used, when it failed. */
  get failure(): Error | null { return this.failed; }

  private send(sources: SourceList): Promise<Normalised[]> {
    const id = this.nextId++;
    const w = this.worker!;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { sources, resolve, reject });
      // Held while answers are due, so the process waits for them; let go when none are.
      w.ref();
      w.postMessage({ id, sources });
      this.stats.messages++;
    });
  }

  private settle(m: { id: number; wire?: NormalisedWire; error?: string }): void {
    const p = this.waiting.get(m.id);
    if (!p) return;
    this.waiting.delete(m.id);
    if (!this.waiting.size) this.worker?.unref();
    if (m.error !== undefined || !m.wire) { p.reject(new Error(`the linking thread failed: ${m.error}`)); return; }
    try {
      p.resolve(decodeNormalised(m.wire, p.sources));
    } catch (err) {
      p.reject(err as Error);
    }
  }

  private fail(err: Error): void {
    this.failed = err;
    const w = this.worker;
    this.worker = null;
    if (w) void w.terminate().catch(() => undefined);
    this.rejectAll(err);
  }

  private rejectAll(err: Error): void {
    for (const p of this.waiting.values()) p.reject(err);
    this.waiting.clear();
  }
}

/** Mentions per message: a message's answer is decoded in one go (about 2 ms for 1,000 mentions here). */
const CHUNK = 1000;

const ROLE = 'tonglan-linking-normalise';

/** LINKING_THREAD=off: every batch normalises its mentions itself (as before round 11). */
function threadAllowed(): boolean {
  return !/^(off|0|false|no)$/i.test(process.env.LINKING_THREAD ?? '');
}

/**
 * The worker's first code: loads this file (TypeScript through tsx's loader, as the hub runs; plain JavaScript
 * when built), whose module body then answers messages (below).
 */
const BOOT = `
const { workerData } = require('node:worker_threads');
const entry = workerData.entry;
if (/\\.[cm]?ts$/.test(entry)) require('tsx/cjs/api').require(entry, entry); else require(entry);
`;

/** In the worker: each message's sources normalised (recent results reused, as in the batch) and sent back flat. */
if (!isMainThread && (workerData as { role?: string } | null)?.role === ROLE && parentPort) {
  const port = parentPort;
  port.on('message', (m: { id: number; sources: SourceList }) => {
    try {
      const done: Normalised[] = [];
      for (let i = 0; i < m.sources.length / SOURCE_WIDTH; i++) done.push(normaliseRecent(sourceAt(m.sources, i)));
      port.postMessage({ id: m.id, wire: encodeNormalised(done, m.sources) });
    } catch (err) {
      port.postMessage({ id: m.id, error: (err as Error).message });
    }
  });
}

/** The process's linking thread. */
export const normaliseThread = new NormaliseThread();
