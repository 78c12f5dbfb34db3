import { randomUUID } from 'node:crypto';
import { encryptSecret } from '../../platform/secrets';
import type { Queryable } from '../../platform/db';
import { HubError } from '../../platform/errors';
import type { Identity } from '../../security/identity';
import { assertCan, departmentScope } from '../../security/scope';
import { compileFilter, type ChangeFilterInput } from '../change-filter';
import { WEBHOOK_REPLAY_CHANNEL } from '../channels';
import { generateWebhookSecret } from './signing';
import { assertExternalWebhookUrl, configuredAllowList, type AllowList } from './url-guard';

/**
 * Webhook endpoints and their delivery log, as the admin API sees them. Who sees which endpoint:
 * a city administrator every one; a department administrator those of their department; anyone else
 * (integrators) only their own. The owner's identity is kept with the endpoint: its scope (grids,
 * departments) is applied to every delivery, and a filter it may not ask for is refused at registration.
 */
export interface WebhookInput {
  url: string;
  description?: string | null;
  filter?: ChangeFilterInput | null;
}

export interface WebhookRecord {
  id: string;
  owner: string;
  department: string | null;
  url: string;
  description: string | null;
  filter: ChangeFilterInput;
  status: 'active' | 'disabled';
  disabledReason: string | null;
  disabledAt: string | null;
  fromPosition: number;
  createdAt: string;
  updatedAt: string;
}

export interface DeliveryRecord {
  id: string;
  webhookId: string;
  position: number;
  status: 'pending' | 'delivered' | 'failed' | 'dead';
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  nextAttemptAt: string | null;
  createdAt: string;
  deliveredAt: string | null;
}

export interface AttemptRecord {
  attempt: number;
  at: string;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
  retryInMs: number | null;
}

const iso = (v: Date | string | null): string | null => (v === null ? null : new Date(v).toISOString());

/* eslint-disable @typescript-eslint/no-explicit-any */
function toWebhook(row: any): WebhookRecord {
  return {
    id: row.id, owner: row.owner, department: row.department, url: row.url, description: row.description,
    filter: row.filter ?? {}, status: row.status, disabledReason: row.disabled_reason, disabledAt: iso(row.disabled_at),
    fromPosition: Number(row.from_position), createdAt: iso(row.created_at)!, updatedAt: iso(row.updated_at)!,
  };
}

function toDelivery(row: any): DeliveryRecord {
  return {
    id: row.id, webhookId: row.webhook_id, position: Number(row.position), status: row.status, attempts: row.attempts,
    lastStatus: row.last_status, lastError: row.last_error, nextAttemptAt: iso(row.next_attempt_at),
    createdAt: iso(row.created_at)!, deliveredAt: iso(row.delivered_at),
  };
}
/* eslint-enable @typescript-eslint/no-explicit-any */

const WEBHOOK_COLUMNS = 'id, owner, department, url, description, filter, status, disabled_reason, disabled_at, from_position, created_at, updated_at';

function validateUrl(url: unknown): string {
  if (typeof url !== 'string') throw new HubError('TL_ERR_BAD_USER_INPUT', 'input.url: required', { field: 'input.url' });
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new HubError('TL_ERR_BAD_USER_INPUT', `input.url: not a URL (${JSON.stringify(url)})`, { field: 'input.url' });
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new HubError('TL_ERR_BAD_USER_INPUT', `input.url: must be http or https (got ${parsed.protocol})`, { field: 'input.url' });
  }
  if (parsed.username || parsed.password) {
    throw new HubError('TL_ERR_BAD_USER_INPUT', 'input.url: credentials in the URL are not accepted (the signature authenticates the hub)', { field: 'input.url' });
  }
  return parsed.toString();
}

/** SQL condition and parameters for the endpoints `identity` may see (alias `w`). */
function visibility(identity: Identity, params: unknown[]): string {
  if (identity.role === 'city-admin') return 'TRUE';
  const departments = departmentScope(identity);
  if (identity.role === 'department-admin') {
    params.push(departments ?? []);
    return `w.department = ANY($${params.length}::text[])`;
  }
  params.push(identity.sub);
  return `w.owner = $${params.length}`;
}

/**
 * Register an endpoint. Its URL must be an external host (url-guard.ts; `allowList` default WEBHOOK_ALLOWED_HOSTS
 * admits chosen on-premise receivers); every delivery checks the addresses again.
 */
export async function createWebhook(db: Queryable, identity: Identity, input: WebhookInput, options: { allowList?: AllowList } = {}): Promise<{ webhook: WebhookRecord; secret: string }> {
  assertCan(identity, 'webhooks:manage');
  const url = validateUrl(input?.url);
  await assertExternalWebhookUrl(new URL(url), options.allowList ?? configuredAllowList());
  const filter = input.filter ?? {};
  compileFilter(filter, identity); // refuses a bad filter or one outside the owner's scope, naming the field
  const description = input.description ? String(input.description).slice(0, 500) : null;
  const id = randomUUID();
  const secret = generateWebhookSecret();
  const { rows } = await db.query(
    `INSERT INTO hub.webhooks (id, owner, department, url, secret, filter, owner_identity, description, from_position)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, (SELECT coalesce(max(position), 0) FROM hub.change_events))
     RETURNING ${WEBHOOK_COLUMNS}`,
    [id, identity.sub, identity.department ?? null, url, JSON.stringify(encryptSecret(secret, `hub.webhooks:${id}`)),
      JSON.stringify(filter), JSON.stringify(identity), description]);
  return { webhook: toWebhook(rows[0]), secret };
}

export async function listWebhooks(db: Queryable, identity: Identity): Promise<WebhookRecord[]> {
  const params: unknown[] = [];
  const { rows } = await db.query(`SELECT ${WEBHOOK_COLUMNS} FROM hub.webhooks w WHERE ${visibility(identity, params)} ORDER BY created_at`, params);
  return rows.map(toWebhook);
}

/** The endpoint, or TL_ERR_NOT_FOUND when it does not exist or the caller may not see it. */
export async function getWebhook(db: Queryable, identity: Identity, id: string): Promise<WebhookRecord> {
  const params: unknown[] = [id];
  const { rows } = /^[0-9a-f-]{36}$/i.test(id)
    ? await db.query(`SELECT ${WEBHOOK_COLUMNS} FROM hub.webhooks w WHERE w.id = $1 AND ${visibility(identity, params)}`, params)
    : { rows: [] };
  if (!rows[0]) throw new HubError('TL_ERR_NOT_FOUND', `No webhook ${id}`, { id });
  return toWebhook(rows[0]);
}

export async function deleteWebhook(db: Queryable, identity: Identity, id: string): Promise<boolean> {
  assertCan(identity, 'webhooks:manage');
  await getWebhook(db, identity, id);
  const { rowCount } = await db.query('DELETE FROM hub.webhooks WHERE id = $1', [id]);
  return (rowCount ?? 0) > 0;
}

/** Re-enable an endpoint disabled by a 410 (or disable one by hand). */
export async function setWebhookActive(db: Queryable, identity: Identity, id: string, active: boolean): Promise<WebhookRecord> {
  assertCan(identity, 'webhooks:manage');
  await getWebhook(db, identity, id);
  const { rows } = await db.query(
    `UPDATE hub.webhooks SET status = $2, updated_at = now(),
            disabled_reason = CASE WHEN $2 = 'active' THEN NULL ELSE 'disabled by its owner' END,
            disabled_at = CASE WHEN $2 = 'active' THEN NULL ELSE now() END
      WHERE id = $1 RETURNING ${WEBHOOK_COLUMNS}`, [id, active ? 'active' : 'disabled']);
  return toWebhook(rows[0]);
}

export async function listDeliveries(db: Queryable, identity: Identity, webhookId: string,
  options: { statuses?: string[] | null; first?: number | null } = {}): Promise<DeliveryRecord[]> {
  await getWebhook(db, identity, webhookId);
  const first = Math.min(Math.max(options.first ?? 50, 1), 500);
  const { rows } = await db.query(
    `SELECT * FROM hub.webhook_deliveries WHERE webhook_id = $1 AND ($2::text[] IS NULL OR status = ANY($2::text[]))
      ORDER BY position DESC LIMIT $3`, [webhookId, options.statuses?.map((s) => s.toLowerCase()) ?? null, first]);
  return rows.map(toDelivery);
}

export async function listAttempts(db: Queryable, deliveryId: string): Promise<AttemptRecord[]> {
  const { rows } = await db.query(
    'SELECT attempt, at, status_code, error, duration_ms, retry_in_ms FROM hub.webhook_attempts WHERE delivery_id = $1 ORDER BY attempt', [deliveryId]);
  return rows.map((r) => ({ attempt: r.attempt, at: iso(r.at)!, statusCode: r.status_code, error: r.error, durationMs: r.duration_ms, retryInMs: r.retry_in_ms }));
}

/**
 * Put deliveries back to pending: by default every failed or dead one of the endpoint; or the ones listed;
 * or, with `fromPosition`, every delivery after that position whatever its state. Returns their ids. The
 * NOTIFY (sent on commit) wakes the dispatcher of the relay part, which queues them, so the admin API needs
 * no Redis. Replaying to a disabled endpoint re-enables it: replay is the owner saying it is back.
 */
export async function markForReplay(db: Queryable, identity: Identity, webhookId: string,
  options: { deliveryIds?: string[] | null; fromPosition?: number | null } = {}): Promise<string[]> {
  assertCan(identity, 'webhooks:manage');
  const webhook = await getWebhook(db, identity, webhookId);
  if (webhook.status === 'disabled') await setWebhookActive(db, identity, webhookId, true);
  const { rows } = await db.query(
    `UPDATE hub.webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = now(), updated_at = now()
      WHERE webhook_id = $1
        AND CASE WHEN $2::uuid[] IS NOT NULL THEN id = ANY($2::uuid[])
                 WHEN $3::bigint IS NOT NULL THEN position > $3
                 ELSE status IN ('failed', 'dead') END
      RETURNING id`, [webhookId, options.deliveryIds ?? null, options.fromPosition ?? null]);
  await db.query('SELECT pg_notify($1, $2)', [WEBHOOK_REPLAY_CHANNEL, webhookId]);
  return rows.map((r) => r.id as string);
}
