import type { Redis } from 'ioredis';
import type { Pool } from '../platform/db';
import type { Logger } from '../platform/logger';
import { CHANGE_EVENT_COLUMNS, rowToChangeEvent, type ChangeEvent, type ChangeEventRow } from './change-event';
import { liveChannel } from './channels';
import { filterSql, type CompiledFilter } from './change-filter';

export type FeedListener = (events: ChangeEvent[]) => void;

export interface ChangeFeedOptions {
  pool: Pool;
  /** A Redis connection of its own: it is put in subscriber mode. */
  subscriber: Redis;
  prefix: string;
  log: Logger;
  /** How often to look in the log for positions the live channel did not bring (default 1 s). */
  pollIntervalMs?: number;
}

/**
 * One process's view of the change log, live: it subscribes to the relay's Redis channel and hands every
 * event, exactly once and in position order, to its listeners (the open subscriptions of this process).
 *
 * Positions are gap-free (the relay assigns them under a lock), so a hole is always detectable: when a batch
 * arrives whose first position is beyond `lastPosition + 1` (a lost Redis message, two relays publishing out
 * of order), the missing range is read from hub.change_events first. A slow poll of the log covers a relay
 * that committed but died before publishing. Several processes each run their own feed; each subscriber is
 * served by the one process it is connected to, so it receives each event once.
 */
export class ChangeFeed {
  private readonly listeners = new Set<FeedListener>();
  private last = 0;
  private chain: Promise<void> = Promise.resolve();
  private pollTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly options: ChangeFeedOptions) {}

  /** The highest position handed to listeners. */
  get lastPosition(): number {
    return this.last;
  }

  async start(): Promise<void> {
    this.last = await this.maxPosition();
    const { subscriber, prefix } = this.options;
    subscriber.on('message', (channel: string, message: string) => {
      if (channel !== liveChannel(prefix)) return;
      let events: ChangeEvent[];
      try {
        events = JSON.parse(message) as ChangeEvent[];
      } catch (err) {
        this.options.log.warn({ err: (err as Error).message }, 'unreadable change-event message ignored');
        return;
      }
      this.enqueue(() => this.advance(events));
    });
    await subscriber.subscribe(liveChannel(prefix));
    this.pollTimer = setInterval(() => this.enqueue(() => this.advance([])), this.options.pollIntervalMs ?? 1000);
    this.pollTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.pollTimer) clearInterval(this.pollTimer);
    await this.options.subscriber.unsubscribe(liveChannel(this.options.prefix)).catch(() => undefined);
    await this.chain;
    this.listeners.clear();
  }

  addListener(listener: FeedListener): void {
    this.listeners.add(listener);
  }

  removeListener(listener: FeedListener): void {
    this.listeners.delete(listener);
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  /** Events after `after` matching `filter`, in position order (replay). */
  async readAfter(after: number, limit: number, filter?: CompiledFilter): Promise<ChangeEvent[]> {
    const params: unknown[] = [after, limit];
    const where = filter ? filterSql(filter, params) : 'TRUE';
    const { rows } = await this.options.pool.query<ChangeEventRow>(
      `SELECT ${CHANGE_EVENT_COLUMNS} FROM hub.change_events ce
        WHERE ce.position > $1 AND ${where} ORDER BY ce.position LIMIT $2`, params);
    return rows.map(rowToChangeEvent);
  }

  private async maxPosition(): Promise<number> {
    const { rows } = await this.options.pool.query<{ last: number }>('SELECT coalesce(max(position), 0)::bigint AS last FROM hub.change_events');
    return Number(rows[0]!.last);
  }

  // One step at a time: live batches, gap reads and polls never interleave, so listeners see positions in order.
  private enqueue(step: () => Promise<void>): void {
    if (this.stopped) return;
    this.chain = this.chain.then(step).catch((err: unknown) => {
      this.options.log.error({ err }, 'change feed step failed; the next poll retries');
    });
  }

  private async advance(incoming: ChangeEvent[]): Promise<void> {
    let fresh = incoming.filter((e) => e.position > this.last);
    const first = fresh[0]?.position;
    if (first === undefined || first > this.last + 1) {
      // A hole before this batch, or a poll: read what the log has beyond `last` (up to the batch's start).
      const upTo = first === undefined ? Infinity : first - 1;
      const missing: ChangeEvent[] = [];
      while (this.last + missing.length < upTo) {
        const page = await this.readAfter(this.last + missing.length, Math.min(1000, upTo - this.last - missing.length));
        if (page.length === 0) break;
        missing.push(...page);
        if (page.length < 1000) break;
      }
      fresh = [...missing, ...fresh];
    }
    // Keep only a contiguous run from last+1; anything beyond a hole waits for the next step.
    const run: ChangeEvent[] = [];
    for (const e of fresh) {
      if (e.position === this.last + run.length + 1) run.push(e);
      else if (e.position > this.last + run.length + 1) break;
    }
    if (run.length === 0) return;
    this.last = run[run.length - 1]!.position;
    for (const listener of this.listeners) {
      try {
        listener(run);
      } catch (err) {
        this.options.log.error({ err }, 'change feed listener failed');
      }
    }
  }
}
