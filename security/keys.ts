import type { HubConfig } from '../platform/config';
import { HubError } from '../platform/errors';

/**
 * The internal key: the HMAC key with which the gateway signs the `x-tonglan-identity` header it forwards to
 * the subgraphs (security/identity.ts). Gateway and subgraphs must derive it the same way, so they both call
 * this function. Outside production a fixed development key keeps `npm start` working without setup; in
 * production the development key is refused (anyone who read this file could forge an identity).
 */
export const DEV_INTERNAL_KEY = 'tonglan-dev-internal-key';

export function internalKey(config: Pick<HubConfig, 'SECRET_KEY' | 'NODE_ENV'>): string {
  const key = config.SECRET_KEY || DEV_INTERNAL_KEY;
  if (config.NODE_ENV === 'production' && (key === DEV_INTERNAL_KEY || key.length < 16)) {
    throw new HubError('TL_ERR_CONFIG_INVALID',
      'SECRET_KEY must be set to a random value of at least 16 characters in production (it signs the identity forwarded to the subgraphs)',
      { variable: 'SECRET_KEY' });
  }
  return key;
}
