import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { config as processConfig, type HubConfig } from './config';
import { HubError } from './errors';

/**
 * Secrets at rest (connector passwords and tokens, webhook signing secrets): AES-256-GCM envelopes
 * `{v, kid, iv, tag, data}` stored as JSON (hub.connectors.secrets, hub.webhooks.secret).
 *
 * The key comes from SECRET_KEY (any string; the AES key is derived from it with HKDF-SHA256, so the same
 * SECRET_KEY can also sign the forwarded identity without reusing key material). `kid` names the key an
 * envelope was sealed with (a digest of the derived key, never the key). Rotation: set the new SECRET_KEY and
 * list the previous ones, comma-separated, in SECRET_KEYS_OLD; envelopes sealed with any listed key still open,
 * new ones are sealed with the current key, and `reencrypt` (or `needsReencryption`) moves old envelopes over.
 * Outside production an empty SECRET_KEY falls back to a fixed development key; production refuses it.
 */
export interface Envelope {
  v: 1;
  kid: string;
  iv: string;
  tag: string;
  data: string;
}

export interface SecretBox {
  /** kid of the key new envelopes are sealed with. */
  readonly currentKid: string;
  encrypt(value: unknown, context?: string): Envelope;
  decrypt(envelope: unknown, context?: string): unknown;
  /** A fresh envelope under the current key (same value); unchanged when it is already current. */
  reencrypt(envelope: unknown, context?: string): Envelope;
  needsReencryption(envelope: unknown): boolean;
}

export const DEV_SECRET_KEY = 'tonglan-dev-secret-key';
const AAD_PREFIX = 'tonglan/secret/v1';

function deriveKey(secret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), Buffer.from('tonglan'), Buffer.from('tonglan/secrets/aes-256-gcm/v1'), 32));
}

function kidOf(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 12);
}

export function isEnvelope(value: unknown): value is Envelope {
  const e = value as Envelope;
  return !!e && typeof e === 'object' && e.v === 1 && ['kid', 'iv', 'tag', 'data'].every((k) => typeof (e as unknown as Record<string, unknown>)[k] === 'string');
}

export function createSecretBox(config: Pick<HubConfig, 'SECRET_KEY' | 'SECRET_KEYS_OLD' | 'NODE_ENV'>): SecretBox {
  if (config.NODE_ENV === 'production' && (!config.SECRET_KEY || config.SECRET_KEY === DEV_SECRET_KEY || config.SECRET_KEY.length < 16)) {
    throw new HubError('TL_ERR_CONFIG_INVALID', 'SECRET_KEY must be set to a random value of at least 16 characters in production (it encrypts connector and webhook secrets)', { variable: 'SECRET_KEY' });
  }
  const current = deriveKey(config.SECRET_KEY || DEV_SECRET_KEY);
  const currentKid = kidOf(current);
  const keys = new Map<string, Buffer>([[currentKid, current]]);
  for (const old of config.SECRET_KEYS_OLD.split(',').map((s) => s.trim()).filter(Boolean)) {
    const key = deriveKey(old);
    keys.set(kidOf(key), key);
  }
  const aad = (context?: string) => Buffer.from(context ? `${AAD_PREFIX}/${context}` : AAD_PREFIX, 'utf8');

  const box: SecretBox = {
    currentKid,
    encrypt(value, context) {
      if (value === undefined) throw new HubError('TL_ERR_BAD_USER_INPUT', 'Cannot encrypt undefined');
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', current, iv);
      cipher.setAAD(aad(context));
      const data = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
      return { v: 1, kid: currentKid, iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), data: data.toString('base64') };
    },
    decrypt(envelope, context) {
      if (!isEnvelope(envelope)) {
        throw new HubError('TL_ERR_CONFIG_INVALID', 'Not a secret envelope ({v: 1, kid, iv, tag, data} expected)');
      }
      const key = keys.get(envelope.kid);
      if (!key) {
        throw new HubError('TL_ERR_CONFIG_INVALID',
          `Secret was encrypted with key ${envelope.kid}, which is neither SECRET_KEY nor listed in SECRET_KEYS_OLD`, { kid: envelope.kid });
      }
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(envelope.iv, 'base64'));
        decipher.setAAD(aad(context));
        decipher.setAuthTag(Buffer.from(envelope.tag, 'base64'));
        const plain = Buffer.concat([decipher.update(Buffer.from(envelope.data, 'base64')), decipher.final()]);
        return JSON.parse(plain.toString('utf8'));
      } catch (err) {
        throw new HubError('TL_ERR_CONFIG_INVALID', `Secret envelope (key ${envelope.kid}) failed authentication: it was altered, or belongs to another record`, { kid: envelope.kid }, { cause: err });
      }
    },
    reencrypt(envelope, context) {
      if (isEnvelope(envelope) && envelope.kid === currentKid) {
        box.decrypt(envelope, context); // still verify it
        return envelope;
      }
      return box.encrypt(box.decrypt(envelope, context), context);
    },
    needsReencryption(envelope) {
      return !isEnvelope(envelope) || envelope.kid !== currentKid;
    },
  };
  return box;
}

let processBox: SecretBox | undefined;
function defaultBox(): SecretBox {
  processBox ??= createSecretBox(processConfig());
  return processBox;
}

/** Seal a value with the process's SECRET_KEY. `context` (e.g. a connector id) binds the envelope to its record. */
export function encryptSecret(value: unknown, context?: string): Envelope {
  return defaultBox().encrypt(value, context);
}

export function decryptSecret(envelope: unknown, context?: string): unknown {
  return defaultBox().decrypt(envelope, context);
}

export function reencryptSecret(envelope: unknown, context?: string): Envelope {
  return defaultBox().reencrypt(envelope, context);
}

/** For tests: forget the process's key so the next call re-reads the configuration. */
export function resetSecretBox(): void {
  processBox = undefined;
}
