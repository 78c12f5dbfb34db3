import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { HubError } from '../../platform/errors';

/**
 * Standard Webhooks signing (https://www.standardwebhooks.com/, CONTRACT.md):
 *   webhook-id:        the message id (the same on every retry of one message)
 *   webhook-timestamp: seconds since the epoch, of this attempt
 *   webhook-signature: `v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>` (space-separated list)
 * The secret is `whsec_<base64 key>`; the HMAC key is the base64-decoded part after the prefix.
 */
export const SECRET_PREFIX = 'whsec_';

/** A new signing secret: 32 random bytes. */
export function generateWebhookSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(32).toString('base64')}`;
}

function keyOf(secret: string): Buffer {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  const key = Buffer.from(encoded, 'base64');
  if (key.length < 16) throw new HubError('TL_ERR_BAD_USER_INPUT', 'A webhook secret is whsec_ followed by at least 16 bytes in base64');
  return key;
}

export function signatureOf(secret: string, id: string, timestamp: number, body: string): string {
  return `v1,${createHmac('sha256', keyOf(secret)).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

/** The three headers to send with `body`. */
export function signedHeaders(secret: string, id: string, body: string, now = Date.now()): Record<string, string> {
  const timestamp = Math.floor(now / 1000);
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signatureOf(secret, id, timestamp, body),
  };
}

/**
 * What a receiver does (docs/events.md shows it standalone): recompute the signature over the raw body and
 * compare in constant time with each `v1` signature of the header; refuse timestamps more than
 * `toleranceSec` away from now (replay protection). Throws TL_ERR_UNAUTHENTICATED with the reason.
 */
export function verifyWebhook(secret: string, headers: Record<string, string | string[] | undefined>, body: string,
  options: { toleranceSec?: number; now?: number } = {}): void {
  const header = (name: string) => {
    const v = headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  const id = header('webhook-id');
  const timestamp = header('webhook-timestamp');
  const signatures = header('webhook-signature');
  if (!id || !timestamp || !signatures) throw new HubError('TL_ERR_UNAUTHENTICATED', 'Missing webhook-id, webhook-timestamp or webhook-signature');
  const ts = Number(timestamp);
  const now = Math.floor((options.now ?? Date.now()) / 1000);
  if (!Number.isInteger(ts) || Math.abs(now - ts) > (options.toleranceSec ?? 300)) {
    throw new HubError('TL_ERR_UNAUTHENTICATED', 'webhook-timestamp is outside the tolerance');
  }
  const expected = Buffer.from(signatureOf(secret, id, ts, body).slice(3), 'base64');
  const ok = signatures.split(' ').some((s) => {
    const [version, value] = s.split(',', 2);
    if (version !== 'v1' || !value) return false;
    const given = Buffer.from(value, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!ok) throw new HubError('TL_ERR_UNAUTHENTICATED', 'No webhook-signature matches');
}
