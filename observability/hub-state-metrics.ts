import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { Counter, Gauge, type Registry } from 'prom-client';
import { DEPARTMENT_CODES } from '../domain/departments';
import type { Pool } from '../platform/db';

/**
 * Metrics of the hub's shared state, read from PostgreSQL and Redis when Prometheus scrapes: sync runs
 * (by status, rows, duration, lag behind the source), BullMQ queue depths, the change-event relay's backlog
 * and lag, and webhook deliveries and failures.
 *
 * Why sampled and not counted in the worker / relay processes: every one of these facts is already committed
 * to `hub.*` tables or BullMQ keys by the part that did the work, in the same transaction as the work. Read
 * at scrape time they are exact across any number of worker and relay processes, survive restarts, and need
 * no coordination between processes (see docs/observability.md). The queries are aggregates over indexed or
 * small tables and run once per scrape, never per request.
 */
export interface HubStateSource {
  pool: Pool;
  /** A Redis connection for BullMQ's job counts (null: queue depths are not reported). */
  redis: Redis | null;
  /** The hub's Redis prefix (REDIS_PREFIX). */
  prefix: string;
}

/** The BullMQ queues of the hub and the key prefix each lives under (sync/worker/sync-queues.ts, events/webhooks/delivery-queue.ts). */
export function hubQueues(prefix: string): Array<{ name: string; prefix: string }> {
  return [
    ...DEPARTMENT_CODES.map((d) => ({ name: `sync-${d.toLowerCase().replace(/_/g, '-')}`, prefix })),
    { name: 'webhook-deliveries', prefix: `${prefix}:bull` },
  ];
}

const JOB_STATES = ['waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized', 'waiting-children'] as const;

/** Register the hub-state metrics on `registry`. Returns a `close()` for the queue handles it opened. */
export function registerHubStateMetrics(registry: Registry, source: HubStateSource): { close(): Promise<void> } {
  const queues = source.redis
    ? hubQueues(source.prefix).map((q) => new Queue(q.name, { connection: source.redis!, prefix: q.prefix }))
    : [];
  const registers = [registry];

  new Gauge({
    name: 'tonglan_sync_runs', help: 'Sync runs by department and status (queued, running, succeeded, failed, cancelled)',
    labelNames: ['department', 'status'], registers,
    async collect() {
      this.reset();
      const { rows } = await source.pool.query<{ department: string; status: string; n: number }>(
        `SELECT c.department, r.status, count(*)::int AS n FROM hub.sync_runs r JOIN hub.connectors c ON c.id = r.connector_id
          GROUP BY 1, 2`);
      for (const r of rows) this.set({ department: r.department, status: r.status }, r.n);
    },
  });

  new Counter({
    name: 'tonglan_sync_rows_total', help: 'Rows handled by finished and running sync runs, by department and kind (read, written, unchanged, quarantined, deleted)',
    labelNames: ['department', 'kind'], registers,
    async collect() {
      const { rows } = await source.pool.query<Record<string, number | string>>(
        `SELECT c.department, sum(r.records_read)::bigint AS read, sum(r.records_written)::bigint AS written,
                sum(r.records_unchanged)::bigint AS unchanged, sum(r.records_quarantined)::bigint AS quarantined,
                sum(r.records_deleted)::bigint AS deleted
           FROM hub.sync_runs r JOIN hub.connectors c ON c.id = r.connector_id GROUP BY 1`);
      this.reset();
      for (const r of rows) {
        for (const kind of ['read', 'written', 'unchanged', 'quarantined', 'deleted']) {
          this.inc({ department: String(r.department), kind }, Number(r[kind] ?? 0));
        }
      }
    },
  });

  const lastRun = `SELECT DISTINCT ON (r.connector_id) c.name AS connector, c.department, r.started_at, r.finished_at,
                          extract(epoch FROM r.finished_at - r.started_at)::float8 AS seconds,
                          extract(epoch FROM now() - r.started_at)::float8 AS lag
                     FROM hub.sync_runs r JOIN hub.connectors c ON c.id = r.connector_id
                    WHERE r.status = 'succeeded' AND r.started_at IS NOT NULL
                    ORDER BY r.connector_id, r.started_at DESC`;
  new Gauge({
    name: 'tonglan_sync_last_run_duration_seconds', help: 'Duration of each connector\'s last successful sync run',
    labelNames: ['connector', 'department'], registers,
    async collect() {
      this.reset();
      const { rows } = await source.pool.query<{ connector: string; department: string; seconds: number }>(lastRun);
      for (const r of rows) this.set({ connector: r.connector, department: r.department }, r.seconds);
    },
  });
  new Gauge({
    name: 'tonglan_sync_lag_seconds',
    help: 'How far each connector\'s data may be behind its source: time since the start of its last successful run (every source change before that start is in the hub)',
    labelNames: ['connector', 'department'], registers,
    async collect() {
      this.reset();
      const { rows } = await source.pool.query<{ connector: string; department: string; lag: number }>(lastRun);
      for (const r of rows) this.set({ connector: r.connector, department: r.department }, r.lag);
    },
  });

  new Gauge({
    name: 'tonglan_queue_jobs', help: 'BullMQ jobs by queue and state (sync queues per department, webhook deliveries)',
    labelNames: ['queue', 'state'], registers,
    async collect() {
      this.reset();
      const counts = await Promise.all(queues.map((q) => q.getJobCounts(...JOB_STATES)));
      queues.forEach((q, i) => {
        for (const state of JOB_STATES) this.set({ queue: q.name, state }, counts[i]![state] ?? 0);
      });
    },
  });

  // The relay deletes outbox rows as it moves them into hub.change_events, so the outbox is its backlog.
  const relayState = `SELECT (SELECT count(*) FROM hub.outbox)::bigint AS pending,
                             coalesce(extract(epoch FROM now() - (SELECT min(created_at) FROM hub.outbox)), 0)::float8 AS lag,
                             (SELECT coalesce(max(position), 0) FROM hub.change_events)::bigint AS position`;
  new Gauge({
    name: 'tonglan_events_outbox_pending', help: 'Committed changes not yet moved into the change-event log by the relay', registers,
    async collect() {
      const { rows } = await source.pool.query<{ pending: number }>(relayState);
      this.set(Number(rows[0]!.pending));
    },
  });
  new Gauge({
    name: 'tonglan_events_lag_seconds', help: 'Age of the oldest change the relay has not yet published (0 when it is caught up)', registers,
    async collect() {
      const { rows } = await source.pool.query<{ lag: number }>(relayState);
      this.set(Number(rows[0]!.lag));
    },
  });
  new Gauge({
    name: 'tonglan_events_log_position', help: 'Position of the newest event in the change-event log', registers,
    async collect() {
      const { rows } = await source.pool.query<{ position: number }>(relayState);
      this.set(Number(rows[0]!.position));
    },
  });
  new Gauge({
    name: 'tonglan_event_consumer_lag_events', help: 'Change events a durable consumer (the webhook dispatcher) has not consumed yet',
    labelNames: ['consumer'], registers,
    async collect() {
      this.reset();
      const { rows } = await source.pool.query<{ name: string; behind: number }>(
        `SELECT name, greatest((SELECT coalesce(max(position), 0) FROM hub.change_events) - position, 0)::bigint AS behind FROM hub.event_consumers`);
      for (const r of rows) this.set({ consumer: r.name }, Number(r.behind));
    },
  });

  new Gauge({
    name: 'tonglan_webhook_deliveries', help: 'Webhook deliveries by status (pending, delivered, failed, dead)',
    labelNames: ['status'], registers,
    async collect() {
      this.reset();
      const { rows } = await source.pool.query<{ status: string; n: number }>('SELECT status, count(*)::int AS n FROM hub.webhook_deliveries GROUP BY 1');
      for (const s of ['pending', 'delivered', 'failed', 'dead']) this.set({ status: s }, rows.find((r) => r.status === s)?.n ?? 0);
    },
  });
  new Counter({
    name: 'tonglan_webhook_failures_total', help: 'Webhook delivery attempts that failed (no answer, or a non-2xx status)',
    labelNames: ['reason'], registers,
    async collect() {
      const { rows } = await source.pool.query<{ no_answer: number; rejected: number }>(
        `SELECT count(*) FILTER (WHERE status_code IS NULL)::bigint AS no_answer,
                count(*) FILTER (WHERE status_code IS NOT NULL AND (status_code < 200 OR status_code >= 300))::bigint AS rejected
           FROM hub.webhook_attempts`);
      this.reset();
      this.inc({ reason: 'no_answer' }, Number(rows[0]!.no_answer));
      this.inc({ reason: 'http_status' }, Number(rows[0]!.rejected));
    },
  });

  return {
    async close() {
      await Promise.all(queues.map((q) => q.close()));
    },
  };
}
