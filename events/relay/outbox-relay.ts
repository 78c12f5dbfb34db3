import type { Redis } from 'ioredis';
import type { Pool } from '../../platform/db';
import type { Logger } from '../../platform/logger';
import {
  CHANGE_EVENT_COLUMNS, CHANGE_OPS, changeEventSource, changeEventType, rowToChangeEvent,
  type ChangeEvent, type ChangeEventRow, type ChangeOp,
} from '../change-event';
import { CHANGE_LOG_CHANNEL, OUTBOX_CHANNEL, liveChannel } from '../channels';
import { PgListener } from '../pg-listener';

/**
 * Moves committed `hub.outbox` rows into the durable log `hub.change_events`, then publishes them to Redis.
 *
 * One transaction per batch: take the relay lock, read the oldest outbox rows, append them to the log with
 * positions last+1, last+2 … (in outbox id order), delete them, NOTIFY, commit. The lock is a transaction
 * advisory lock, so with several relays running exactly one appends at a time: positions are gap-free and
 * in commit order (a reader that has seen position N can never later find a smaller one appear), and no
 * outbox row is emitted twice. A relay that finds the lock taken does nothing: the holder drains the outbox.
 *
 * Per-entity order: the sync pipeline writes an entity's outbox row after the entity's row in the same
 * transaction, so the row lock on the entity orders two changes of one entity by outbox id, and the relay
 * keeps outbox id order.
 *
 * Woken by LISTEN (trigger on hub.outbox, migration 0400) with a polling fallback. Publishing to Redis is
 * after the commit and best effort: live readers detect a missing position and read it from the log.
 */
export const RELAY_LOCK_KEY = 7_401_400; // arbitrary, fixed: "tonglan change-event relay"

export interface RelayOptions {
  pool: Pool;
  databaseUrl: string;
  /** A (non-subscriber) Redis connection to publish on. */
  redis: Redis;
  prefix: string;
  log: Logger;
  batchSize?: number;
  pollIntervalMs?: number;
  /** Called after each committed batch (the webhook dispatcher hooks in here). */
  onRelayed?: (events: ChangeEvent[]) => void;
}

interface OutboxRow {
  id: number;
  entity_type: string;
  entity_id: string;
  op: string;
  department: string | null;
  grid_code: string | null;
  changed_fields: string[];
  data: unknown;
  created_at: Date;
}

export class OutboxRelay {
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private listener: PgListener | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private draining: Promise<void> | undefined;
  private wakeAgain = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly options: RelayOptions) {
    this.batchSize = options.batchSize ?? 500;
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
  }

  async start(): Promise<void> {
    this.listener = new PgListener(this.options.databaseUrl, [OUTBOX_CHANNEL], () => this.wake(), this.options.log);
    await this.listener.start();
    this.pollTimer = setInterval(() => this.wake(), this.pollIntervalMs);
    this.pollTimer.unref();
    this.wake();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.pollTimer) clearInterval(this.pollTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.listener?.stop();
    await this.draining;
  }

  /** Drain the outbox soon; calls while a drain runs make it go round once more. */
  wake(): void {
    if (this.stopped) return;
    if (this.draining) {
      this.wakeAgain = true;
      return;
    }
    this.draining = this.drain()
      .then(() => undefined, (err: unknown) => this.options.log.error({ err }, 'relay drain failed'))
      .finally(() => {
        this.draining = undefined;
        if (this.wakeAgain && !this.stopped) {
          this.wakeAgain = false;
          this.wake();
        }
      });
  }

  private retrySoon(): void {
    if (this.stopped || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.wake();
    }, 25);
    this.retryTimer.unref();
  }

  /** Relay batches until the outbox is empty (or another relay holds the lock). Returns the events moved. */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const moved = await this.relayBatch();
      if (moved.length === 0) return total;
      total += moved.length;
      if (moved.length < this.batchSize) return total;
    }
  }

  /** Move one batch of the outbox into the log; [] when the outbox is empty or another relay is at work. */
  async relayBatch(): Promise<ChangeEvent[]> {
    const client = await this.options.pool.connect();
    let events: ChangeEvent[];
    try {
      await client.query('BEGIN');
      const lock = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS locked', [RELAY_LOCK_KEY]);
      if (!lock.rows[0]!.locked) {
        await client.query('COMMIT');
        // The holder may have read the outbox just before our wake-up's rows committed: look again shortly.
        this.retrySoon();
        return [];
      }
      const outbox = await client.query<OutboxRow>(
        `SELECT id, entity_type, entity_id, op, department, grid_code, changed_fields, data, created_at
           FROM hub.outbox ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`, [this.batchSize]);
      if (outbox.rows.length === 0) {
        await client.query('COMMIT');
        return [];
      }
      const last = await client.query<{ last: number }>('SELECT coalesce(max(position), 0)::bigint AS last FROM hub.change_events');
      let position = Number(last.rows[0]!.last);
      const records = outbox.rows.map((row) => {
        position += 1;
        const op = (CHANGE_OPS as readonly string[]).includes(row.op) ? (row.op as ChangeOp) : 'UPDATE';
        return {
          position,
          type: changeEventType(row.entity_type, op),
          source: changeEventSource(row.department),
          subject: `${row.entity_type}/${row.entity_id}`,
          op,
          entity_type: row.entity_type,
          entity_id: row.entity_id,
          department: row.department,
          grid_code: row.grid_code,
          changed_fields: row.changed_fields ?? [],
          data: row.data ?? {},
          time: row.created_at.toISOString(),
          outbox_id: row.id,
        };
      });
      const inserted = await client.query<ChangeEventRow>(
        `INSERT INTO hub.change_events (position, type, source, subject, op, entity_type, entity_id, department,
                                        grid_code, changed_fields, data, time, outbox_id)
         SELECT r.position, r.type, r.source, r.subject, r.op, r.entity_type, r.entity_id, r.department,
                r.grid_code, r.changed_fields, r.data, r.time, r.outbox_id
           FROM jsonb_to_recordset($1::jsonb) AS r(position bigint, type text, source text, subject text, op text,
                entity_type text, entity_id uuid, department text, grid_code text, changed_fields text[],
                data jsonb, time timestamptz, outbox_id bigint)
          ORDER BY r.position
         RETURNING ${CHANGE_EVENT_COLUMNS}`,
        [JSON.stringify(records)]);
      await client.query('DELETE FROM hub.outbox WHERE id = ANY($1::bigint[])', [outbox.rows.map((r) => r.id)]);
      await client.query('SELECT pg_notify($1, $2)', [CHANGE_LOG_CHANNEL, String(position)]);
      await client.query('COMMIT');
      events = inserted.rows.map(rowToChangeEvent).sort((a, b) => a.position - b.position);
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
    try {
      await this.options.redis.publish(liveChannel(this.options.prefix), JSON.stringify(events));
    } catch (err) {
      // Live readers notice the missing positions and read them from the log.
      this.options.log.warn({ err: (err as Error).message, first: events[0]!.position }, 'publishing change events to Redis failed');
    }
    this.options.onRelayed?.(events);
    return events;
  }
}
