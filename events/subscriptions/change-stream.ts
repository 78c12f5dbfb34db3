import type { Logger } from '../../platform/logger';
import type { ChangeEvent } from '../change-event';
import type { ChangeFeed, FeedListener } from '../change-feed';
import { matchesFilter, type CompiledFilter } from '../change-filter';
import type { EntityLoader } from './entity-enricher';

/** What `Subscription.changes` yields: a ChangeEvent with its entity already fetched (or null). */
export interface ChangeEventView {
  id: string;
  position: number;
  type: string;
  op: string;
  entityType: string;
  entityId: string;
  department: string | null;
  gridCode: string | null;
  changedFields: string[];
  occurredAt: string;
  cloudEventId: string;
  source: string;
  subject: string;
  entity: unknown;
}

export interface ChangeStreamOptions {
  feed: ChangeFeed;
  filter: CompiledFilter;
  /** Resume after this position (replay from the log, then live); null = live from now. */
  after: number | null;
  /** Null when the subscriber did not select `entity`. */
  loader: EntityLoader | null;
  log: Logger;
  /** A subscriber this far behind is completed (it resumes with `after`). Default 10,000. */
  maxQueue?: number;
  replayPageSize?: number;
}

interface Item {
  event: ChangeEvent;
  entity: Promise<unknown> | null;
}

function view(event: ChangeEvent, entity: unknown): ChangeEventView {
  return {
    id: String(event.position),
    position: event.position,
    type: event.type,
    op: event.op,
    entityType: event.entityType,
    entityId: event.entityId,
    department: event.department,
    gridCode: event.gridCode,
    changedFields: event.changedFields,
    occurredAt: event.time,
    cloudEventId: event.id,
    source: event.source,
    subject: event.subject,
    entity,
  };
}

/**
 * One subscription's events, in position order, each once.
 *
 * Resume without gap or duplicate: the stream listens to the live feed BEFORE it reads the log. While it
 * replays (`position > after`, page by page, filtered in SQL), live batches are held back; afterwards they are
 * let through, skipping every position already delivered. Everything committed before the stream began is in
 * the log (the feed hands out only committed positions), everything after reaches the listener: the union
 * covers all positions, and `lastQueued` removes the overlap.
 *
 * Entities are requested as events are queued (not when the client reads them), so a batch of events for
 * many subscribers turns into one federated request (see EntityEnricher).
 */
export class ChangeStream implements AsyncIterableIterator<ChangeEventView> {
  private readonly queue: Item[] = [];
  private readonly held: ChangeEvent[] = [];
  private lastQueued: number;
  private replaying: boolean;
  private finished = false;
  private failure: unknown;
  private wakeReader: (() => void) | undefined;
  private wakeReplay: (() => void) | undefined;
  private readonly maxQueue: number;
  private readonly pageSize: number;
  private readonly listener: FeedListener = (events) => this.onLive(events);

  constructor(private readonly options: ChangeStreamOptions) {
    this.maxQueue = options.maxQueue ?? 10_000;
    this.pageSize = options.replayPageSize ?? 200;
    options.feed.addListener(this.listener);
    if (options.after !== null) {
      this.lastQueued = options.after;
      this.replaying = true;
      void this.replay();
    } else {
      this.lastQueued = options.feed.lastPosition;
      this.replaying = false;
    }
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<ChangeEventView>> {
    for (;;) {
      if (this.failure !== undefined) {
        const err = this.failure;
        this.failure = undefined;
        await this.return();
        throw err;
      }
      const item = this.queue.shift();
      if (item) {
        if (this.queue.length < this.pageSize) this.wakeReplay?.();
        const entity = item.entity ? await item.entity : null;
        return { value: view(item.event, entity), done: false };
      }
      if (this.finished) return { value: undefined, done: true };
      await new Promise<void>((resolve) => {
        this.wakeReader = resolve;
      });
    }
  }

  async return(): Promise<IteratorResult<ChangeEventView>> {
    this.finish();
    this.queue.length = 0;
    return { value: undefined, done: true };
  }

  async throw(err?: unknown): Promise<IteratorResult<ChangeEventView>> {
    this.finish();
    throw err;
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.options.feed.removeListener(this.listener);
    this.options.loader?.release();
    this.wake();
    this.wakeReplay?.();
  }

  private wake(): void {
    const wake = this.wakeReader;
    this.wakeReader = undefined;
    wake?.();
  }

  private onLive(events: ChangeEvent[]): void {
    if (this.finished) return;
    if (this.replaying) {
      this.held.push(...events);
      if (this.held.length > this.maxQueue) this.overflow();
      return;
    }
    for (const e of events) this.accept(e);
    this.wake();
  }

  private accept(event: ChangeEvent): void {
    if (event.position <= this.lastQueued) return;
    this.lastQueued = event.position;
    if (!matchesFilter(this.options.filter, event)) return;
    const { loader } = this.options;
    const entity = loader && event.op !== 'DELETE'
      ? loader.load(event.entityType, event.entityId).catch(() => null)
      : null;
    this.queue.push({ event, entity });
    if (this.queue.length > this.maxQueue) this.overflow();
  }

  private overflow(): void {
    this.options.log.warn({ lastQueued: this.lastQueued, queued: this.queue.length }, 'subscriber too slow; completing its subscription (it resumes with after)');
    // Deliver what is queued, then complete: the client resumes from the last id it received.
    this.options.feed.removeListener(this.listener);
    this.options.loader?.release();
    this.finished = true;
    this.wake();
  }

  private async replay(): Promise<void> {
    try {
      for (;;) {
        while (!this.finished && this.queue.length >= this.pageSize) {
          await new Promise<void>((resolve) => {
            this.wakeReplay = resolve;
          });
        }
        if (this.finished) return;
        const page = await this.options.feed.readAfter(this.lastQueued, this.pageSize, this.options.filter);
        for (const e of page) this.accept(e);
        this.wake();
        if (page.length < this.pageSize) break;
      }
      this.replaying = false;
      const held = this.held.splice(0);
      for (const e of held) this.accept(e);
      this.wake();
    } catch (err) {
      this.options.log.error({ err }, 'replay of the change log failed');
      this.failure = err;
      this.wake();
    }
  }
}
