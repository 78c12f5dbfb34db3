import type { Pool } from '../../platform/db';
import type { Logger } from '../../platform/logger';
import type { Identity } from '../../security/identity';
import { CHANGE_EVENT_COLUMNS, rowToChangeEvent, type ChangeEventRow } from '../change-event';
import { compileFilter, matchesFilter, type ChangeFilterInput, type CompiledFilter } from '../change-filter';
import { CHANGE_LOG_CHANNEL, WEBHOOK_REPLAY_CHANNEL } from '../channels';
import { PgListener } from '../pg-listener';
import type { DeliveryQueue } from './delivery-queue';

/**
 * Turns new change events into webhook deliveries: for each event after the consumer's position, one
 * `hub.webhook_deliveries` row per active endpoint whose filter (within its owner's scope) matches, then one
 * BullMQ job per row.
 *
 * The consumer position (`hub.event_consumers`, name `webhooks`) is read FOR UPDATE SKIP LOCKED in the same
 * transaction that inserts the deliveries and advances it, so with several relay processes each range of the
 * log is dispatched by exactly one of them; the (webhook_id, position) key makes a repeat harmless anyway.
 * Jobs are added after the commit; a sweep re-adds pending deliveries whose job went missing (a crash between
 * the commit and the add), and the job id (= delivery id) keeps that from running anything twice.
 */
export const CONSUMER = 'webhooks';

export interface DispatcherOptions {
  pool: Pool;
  databaseUrl: string;
  queue: DeliveryQueue;
  log: Logger;
  batchSize?: number;
  pollIntervalMs?: number;
  sweepIntervalMs?: number;
}

interface WebhookRow {
  id: string;
  status: 'active' | 'disabled';
  filter: ChangeFilterInput;
  owner_identity: Identity;
  from_position: number;
}

export class WebhookDispatcher {
  private listener: PgListener | undefined;
  private timers: NodeJS.Timeout[] = [];
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(private readonly options: DispatcherOptions) {}

  async start(): Promise<void> {
    this.listener = new PgListener(this.options.databaseUrl, [CHANGE_LOG_CHANNEL, WEBHOOK_REPLAY_CHANNEL], (channel, payload) => {
      if (channel === WEBHOOK_REPLAY_CHANNEL && payload) {
        void this.sweep({ webhookId: payload, olderThanMs: 0 }).catch((err) => this.options.log.error({ err }, 'webhook replay failed'));
      } else {
        this.wake();
      }
    }, this.options.log);
    await this.listener.start();
    const poll = setInterval(() => this.wake(), this.options.pollIntervalMs ?? 1000);
    const sweep = setInterval(() => void this.sweep().catch((err) => this.options.log.error({ err }, 'webhook sweep failed')),
      this.options.sweepIntervalMs ?? 30_000);
    this.timers.push(poll, sweep);
    for (const t of this.timers) t.unref();
    this.wake();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    await this.listener?.stop();
    await this.running;
  }

  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      try {
        while ((await this.dispatchBatch()) === (this.options.batchSize ?? 500));
      } catch (err) {
        this.options.log.error({ err }, 'webhook dispatch failed');
      }
    })().finally(() => {
      this.running = undefined;
      if (this.again && !this.stopped) {
        this.again = false;
        this.wake();
      }
    });
  }

  /** Dispatch one batch of the log; returns the number of change events consumed. */
  async dispatchBatch(): Promise<number> {
    const { pool, queue, log } = this.options;
    const batchSize = this.options.batchSize ?? 500;
    const client = await pool.connect();
    let deliveryIds: string[];
    let consumed: number;
    try {
      await client.query('BEGIN');
      // First run: start at the oldest endpoint's registration (or the log's end when there is none).
      await client.query(
        `INSERT INTO hub.event_consumers (name, position)
         VALUES ($1, coalesce((SELECT min(from_position) FROM hub.webhooks WHERE status = 'active'),
                              (SELECT max(position) FROM hub.change_events), 0))
         ON CONFLICT (name) DO NOTHING`, [CONSUMER]);
      const cursor = await client.query<{ position: number }>(
        'SELECT position FROM hub.event_consumers WHERE name = $1 FOR UPDATE SKIP LOCKED', [CONSUMER]);
      if (!cursor.rows[0]) {
        await client.query('COMMIT'); // another dispatcher is at work
        return 0;
      }
      const from = Number(cursor.rows[0].position);
      const { rows } = await client.query<ChangeEventRow>(
        `SELECT ${CHANGE_EVENT_COLUMNS} FROM hub.change_events WHERE position > $1 ORDER BY position LIMIT $2`, [from, batchSize]);
      consumed = rows.length;
      if (consumed === 0) {
        await client.query('COMMIT');
        return 0;
      }
      const events = rows.map(rowToChangeEvent);
      // Disabled endpoints get their deliveries too, recorded as dead without a job: what happened while an
      // endpoint was gone stays replayable once its owner brings it back.
      const webhooks = await client.query<WebhookRow>('SELECT id, filter, owner_identity, from_position, status FROM hub.webhooks');
      const targets: Array<{ webhook: WebhookRow; filter: CompiledFilter }> = [];
      for (const webhook of webhooks.rows) {
        try {
          targets.push({ webhook, filter: compileFilter(webhook.filter, webhook.owner_identity) });
        } catch (err) {
          log.warn({ webhook: webhook.id, err: (err as Error).message }, 'webhook filter no longer valid for its owner; skipped');
        }
      }
      const pairs: { webhookIds: string[]; positions: number[]; statuses: string[] } = { webhookIds: [], positions: [], statuses: [] };
      for (const event of events) {
        for (const { webhook, filter } of targets) {
          if (event.position > Number(webhook.from_position) && matchesFilter(filter, event)) {
            pairs.webhookIds.push(webhook.id);
            pairs.positions.push(event.position);
            pairs.statuses.push(webhook.status === 'active' ? 'pending' : 'dead');
          }
        }
      }
      const inserted = pairs.webhookIds.length
        ? await client.query<{ id: string; status: string }>(
          `INSERT INTO hub.webhook_deliveries (webhook_id, position, status, next_attempt_at, last_error)
           SELECT w, p, s, CASE WHEN s = 'pending' THEN now() END, CASE WHEN s = 'dead' THEN 'endpoint disabled' END
             FROM unnest($1::uuid[], $2::bigint[], $3::text[]) AS t(w, p, s)
           ON CONFLICT (webhook_id, position) DO NOTHING RETURNING id, status`, [pairs.webhookIds, pairs.positions, pairs.statuses])
        : { rows: [] };
      deliveryIds = inserted.rows.filter((r) => r.status === 'pending').map((r) => r.id);
      await client.query('UPDATE hub.event_consumers SET position = $2, updated_at = now() WHERE name = $1',
        [CONSUMER, events[events.length - 1]!.position]);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
    await queue.enqueue(deliveryIds);
    return consumed;
  }

  /**
   * Queue pending deliveries that are due and have no job: lost between commit and add (the periodic sweep,
   * due for a minute), or put back by a replay (at once, for that webhook).
   */
  async sweep(options: { webhookId?: string; olderThanMs?: number } = {}): Promise<number> {
    const { rows } = await this.options.pool.query<{ id: string }>(
      `SELECT id FROM hub.webhook_deliveries
        WHERE status = 'pending' AND coalesce(next_attempt_at, created_at) <= now() - make_interval(secs => $1 / 1000.0)
          AND ($2::uuid IS NULL OR webhook_id = $2)
        ORDER BY position LIMIT 5000`, [options.olderThanMs ?? 60_000, options.webhookId ?? null]);
    const missing: string[] = [];
    for (const { id } of rows) {
      if (!(await this.options.queue.queue.getJob(id))) missing.push(id);
    }
    await this.options.queue.enqueue(missing);
    return missing.length;
  }
}
