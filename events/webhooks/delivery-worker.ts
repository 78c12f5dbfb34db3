import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Pool } from '../../platform/db';
import type { Logger } from '../../platform/logger';
import { decryptSecret } from '../../platform/secrets';
import { CHANGE_EVENT_COLUMNS, rowToChangeEvent, toCloudEvent, type ChangeEventRow } from '../change-event';
import { WEBHOOK_QUEUE } from '../channels';
import { backoffDelay, retryAfterMs, DEFAULT_RETRY_POLICY, type RetryPolicy } from './backoff';
import { bullPrefix, type DeliveryJob } from './delivery-queue';
import { signedHeaders } from './signing';
import { configuredAllowList, guardedLookup, refusal, urlHost, WebhookUrlRefused, type AllowList } from './url-guard';

/**
 * Sends webhook deliveries: POST of the CloudEvents envelope (structured mode, `application/cloudevents+json`
 * would do too; `application/json` is what receivers expect), signed per Standard Webhooks.
 *
 *  - 2xx: delivered.
 *  - 410 Gone: the endpoint is disabled (no more deliveries until its owner re-enables or replays it); this
 *    delivery and every later one of the endpoint end as `dead`, kept and replayable.
 *  - 429 / 503 with `Retry-After`: retried after the time asked (capped); any other failure (non-2xx,
 *    refused, timeout): exponential backoff with jitter. After the last attempt: `failed`, kept, replayable.
 * Every attempt is written to hub.webhook_attempts (the endpoint's delivery log).
 */
export interface DeliveryWorkerOptions {
  pool: Pool;
  connection: Redis;
  prefix: string;
  log: Logger;
  policy?: RetryPolicy;
  concurrency?: number;
  timeoutMs?: number;
  /** Receivers admitted although not external (default: WEBHOOK_ALLOWED_HOSTS of the configuration). */
  allowList?: AllowList;
}

/**
 * POST `body` to `url` through a socket whose DNS lookup refuses non-external addresses (url-guard.ts); no
 * redirects are followed. Resolves with the status, the Retry-After header and the start of the answer.
 */
export function postWebhook(url: string, headers: Record<string, string>, body: string, options: { timeoutMs: number; allowList: AllowList }):
  Promise<{ status: number; retryAfter: string | null; text: string }> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const host = urlHost(target);
    if (isIP(host)) {
      const why = refusal(host, host, options.allowList);
      if (why) return reject(new WebhookUrlRefused(why));
    }
    const request = (target.protocol === 'https:' ? https : http).request(target, {
      method: 'POST',
      headers: { ...headers, 'content-length': Buffer.byteLength(body) },
      lookup: guardedLookup(options.allowList),
      agent: false,
    }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => { if (size < 4096) { chunks.push(c); size += c.length; } });
      res.on('end', () => {
        clearTimeout(timer);
        const retryAfter = res.headers['retry-after'];
        resolve({ status: res.statusCode ?? 0, retryAfter: (Array.isArray(retryAfter) ? retryAfter[0] : retryAfter) ?? null, text: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', reject);
    });
    const timer = setTimeout(() => request.destroy(Object.assign(new Error('timed out'), { name: 'TimeoutError' })), options.timeoutMs);
    request.on('error', (err) => { clearTimeout(timer); reject(err); });
    request.end(body);
  });
}

/** A failed attempt that is to be retried after `delayMs`. */
class RetryDelivery extends Error {
  constructor(message: string, readonly delayMs: number) {
    super(message);
    this.name = 'RetryDelivery';
  }
}

interface DeliveryRow extends ChangeEventRow {
  delivery_id: string;
  delivery_status: string;
  attempts: number;
  webhook_id: string;
  url: string;
  secret: unknown;
  webhook_status: string;
}

const USER_AGENT = 'Tonglan-Webhooks/1.0';

export class WebhookDeliveryWorker {
  readonly worker: Worker<DeliveryJob>;
  private readonly policy: RetryPolicy;
  private readonly allowList: AllowList;

  constructor(private readonly options: DeliveryWorkerOptions) {
    this.policy = options.policy ?? DEFAULT_RETRY_POLICY;
    this.allowList = options.allowList ?? configuredAllowList();
    this.worker = new Worker<DeliveryJob>(WEBHOOK_QUEUE, (job) => this.deliver(job), {
      connection: options.connection,
      prefix: bullPrefix(options.prefix),
      concurrency: options.concurrency ?? 20,
      settings: {
        // The delay was chosen by the attempt itself (Retry-After or backoff) and logged with it.
        backoffStrategy: (attemptsMade: number, _type?: string, err?: Error) =>
          err instanceof RetryDelivery ? err.delayMs : backoffDelay(attemptsMade, this.policy),
      },
    });
    this.worker.on('error', (err) => options.log.error({ err }, 'webhook worker error'));
  }

  async close(): Promise<void> {
    await this.worker.close();
  }

  private async deliver(job: Job<DeliveryJob>): Promise<void> {
    const { pool, log } = this.options;
    const { rows } = await pool.query<DeliveryRow>(
      `SELECT d.id AS delivery_id, d.status AS delivery_status, d.attempts, w.id AS webhook_id, w.url, w.secret,
              w.status AS webhook_status, ${CHANGE_EVENT_COLUMNS.split(', ').map((c) => `ce.${c}`).join(', ')}
         FROM hub.webhook_deliveries d
         JOIN hub.webhooks w ON w.id = d.webhook_id
         JOIN hub.change_events ce ON ce.position = d.position
        WHERE d.id = $1`, [job.data.deliveryId]);
    const row = rows[0];
    if (!row || row.delivery_status === 'delivered') return; // endpoint deleted, or done already
    if (row.webhook_status !== 'active') {
      await pool.query(
        `UPDATE hub.webhook_deliveries SET status = 'dead', last_error = 'endpoint disabled', next_attempt_at = NULL, updated_at = now()
          WHERE id = $1`, [row.delivery_id]);
      return;
    }
    const event = rowToChangeEvent(row);
    const body = JSON.stringify(toCloudEvent(event));
    const secret = decryptSecret(row.secret, `hub.webhooks:${row.webhook_id}`) as string;
    const attempt = row.attempts + 1;
    const started = Date.now();
    let status: number | null = null;
    let error: string | null = null;
    let retryAfter: number | null = null;
    let refused = false;
    try {
      const response = await postWebhook(row.url, { 'content-type': 'application/json', 'user-agent': USER_AGENT, ...signedHeaders(secret, event.id, body) }, body,
        { timeoutMs: this.options.timeoutMs ?? 10_000, allowList: this.allowList });
      status = response.status;
      if (status === 429 || status === 503) retryAfter = retryAfterMs(response.retryAfter);
      if (status < 200 || status >= 300) error = `HTTP ${status}: ${response.text.slice(0, 300)}`;
    } catch (err) {
      refused = err instanceof WebhookUrlRefused;
      error = refused ? `refused: ${(err as Error).message}` : (err as Error).name === 'TimeoutError' ? 'timed out'
        : `${(err as Error).message}${(err as { cause?: Error }).cause ? `: ${(err as { cause: Error }).cause.message}` : ''}`;
    }
    const durationMs = Date.now() - started;

    if (error === null) {
      await this.record(row.delivery_id, attempt, status, null, durationMs, null, `status = 'delivered', delivered_at = now(), next_attempt_at = NULL`);
      return;
    }
    if (status === 410) {
      await pool.query(
        `UPDATE hub.webhooks SET status = 'disabled', disabled_reason = $2, disabled_at = now(), updated_at = now() WHERE id = $1`,
        [row.webhook_id, `The endpoint answered 410 Gone at position ${event.position}`]);
      await this.record(row.delivery_id, attempt, status, error, durationMs, null, `status = 'dead', next_attempt_at = NULL`);
      log.info({ webhook: row.webhook_id }, 'webhook endpoint answered 410 Gone: disabled');
      return;
    }
    // A receiver that is (now) not external is not retried: kept as failed, replayable once it is fixed.
    const last = refused || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    if (last) {
      if (refused) log.warn({ webhook: row.webhook_id, error }, 'webhook delivery refused: the receiver is not an external host');
      await this.record(row.delivery_id, attempt, status, error, durationMs, null, `status = 'failed', next_attempt_at = NULL`);
      return; // kept as failed, replayable; the job ends without a BullMQ failure
    }
    const delay = Math.min(this.policy.maxDelayMs, retryAfter ?? backoffDelay(job.attemptsMade + 1, this.policy));
    await this.record(row.delivery_id, attempt, status, error, durationMs, delay,
      `status = 'pending', next_attempt_at = now() + make_interval(secs => ${delay} / 1000.0)`);
    throw new RetryDelivery(error, delay);
  }

  private async record(deliveryId: string, attempt: number, status: number | null, error: string | null, durationMs: number,
    retryInMs: number | null, set: string): Promise<void> {
    await this.options.pool.query(
      `WITH attempt AS (
         INSERT INTO hub.webhook_attempts (delivery_id, attempt, status_code, error, duration_ms, retry_in_ms)
         VALUES ($1, $2, $3, $4, $5, $6))
       UPDATE hub.webhook_deliveries SET attempts = $2, last_status = $3, last_error = $4, updated_at = now(), ${set}
        WHERE id = $1`, [deliveryId, attempt, status, error, durationMs, retryInMs]);
  }
}
