import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import {
  calculateJwkThumbprint, createLocalJWKSet, createRemoteJWKSet, jwtVerify,
  type JSONWebKeySet, type JWK, type JWTVerifyGetKey, type JWTVerifyOptions, type KeyLike,
} from 'jose';
import type { HubConfig } from '../platform/config';
import type { Queryable } from '../platform/db';
import { HubError } from '../platform/errors';
import { createApiKeyVerifier, looksLikeApiKey, type ApiKeyVerifier } from './api-keys';
import { identityFromClaims } from './claims';
import type { Identity } from './identity';

/**
 * Authentication at the gateway: an `Authorization` header → a verified Identity, or TL_ERR_UNAUTHENTICATED
 * with the reason (`details.reason`: missing, malformed, unsupported_scheme, bad_signature, expired,
 * not_yet_valid, wrong_issuer, wrong_audience, unknown_key, algorithm_not_allowed, invalid_claims, plus the
 * API-key reasons of api-keys.ts). Never data without a verified identity.
 *
 * Keys, from configuration (any combination; tried in this order):
 *  - JWT_SECRET        HS256/384/512 shared secret (development and simple set-ups);
 *  - JWT_PUBLIC_KEYS   a static key set: a JWKS JSON (`{"keys": [...]}` or `[...]`), one or more PEM public
 *                      keys/certificates (kid = RFC 7638 thumbprint), or a path to a file holding either;
 *  - JWT_JWKS_URL      the identity provider's JWKS endpoint (`createRemoteJWKSet`: cached, refetched on an
 *                      unknown kid, so the provider's key rotation needs no restart).
 * Rotation with static keys: list the new and the old key (distinct kids); tokens signed with the old one keep
 * verifying until it is removed from the list.
 * Outside production, with no key configured at all, the development secret (DEV_JWT_SECRET) is used, which is
 * what `npm run token` signs with. Production refuses it (and platform/config.ts requires a key).
 * Claims: `iss` = JWT_ISSUER and `aud` ∋ JWT_AUDIENCE are required, `exp` is required and enforced (30 s clock
 * tolerance), `sub` and `role` required; see claims.ts for the scope claims.
 */
export const DEV_JWT_SECRET = 'tonglan-dev-jwt-secret-not-for-production';
const ASYMMETRIC = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
const SYMMETRIC = ['HS256', 'HS384', 'HS512'];

export type Authenticator = (authorization: string | undefined | null) => Promise<Identity>;

export interface AuthenticatorOptions {
  clockToleranceSec?: number;
  /** Reject tokens issued longer ago than this (`iat`), e.g. '12h'. Off by default. */
  maxTokenAge?: string;
  apiKeys?: ApiKeyVerifier;
  /** Remote JWKS fetch timeout (ms). */
  jwksTimeoutMs?: number;
  /** Least time between two refetches of the remote JWKS on an unknown kid (ms, default 30 s). */
  jwksCooldownMs?: number;
  /**
   * How long a verified token's identity is remembered (ms, default 60 s, never past the token's `exp`; 0 =
   * off): a client sends the same token with every request, and verifying it costs 0.2-0.5 ms of CPU each time.
   */
  verifiedTokenCacheMs?: number;
}

type AuthConfig = Pick<HubConfig, 'NODE_ENV' | 'JWT_ISSUER' | 'JWT_AUDIENCE' | 'JWT_SECRET' | 'JWT_JWKS_URL' | 'JWT_PUBLIC_KEYS'>;

export function failure(reason: string, message: string): HubError {
  return new HubError('TL_ERR_UNAUTHENTICATED', `Authentication failed: ${message}`, { reason });
}

/** The HS secret tokens are verified (and `npm run token` signs) with, or null when HS tokens are not accepted. */
export function jwtSecretOf(config: AuthConfig): string | null {
  if (config.JWT_SECRET) {
    if (config.NODE_ENV === 'production' && (config.JWT_SECRET === DEV_JWT_SECRET || config.JWT_SECRET.length < 32)) {
      throw new HubError('TL_ERR_CONFIG_INVALID', 'JWT_SECRET must be a random value of at least 32 characters in production', { variable: 'JWT_SECRET' });
    }
    return config.JWT_SECRET;
  }
  if (config.NODE_ENV !== 'production' && !config.JWT_JWKS_URL && !config.JWT_PUBLIC_KEYS) return DEV_JWT_SECRET;
  return null;
}

function inferAlg(jwk: JWK): string | undefined {
  if (jwk.kty === 'RSA') return 'RS256';
  if (jwk.kty === 'EC') return ({ 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' } as Record<string, string>)[jwk.crv ?? ''];
  if (jwk.kty === 'OKP') return 'EdDSA';
  return undefined;
}

/** Parse JWT_PUBLIC_KEYS into a JWKS. Private keys are refused: the hub needs, and must hold, only public keys. */
export async function parseStaticKeys(value: string): Promise<JSONWebKeySet> {
  let text = value.trim();
  if ((text.startsWith('/') || text.startsWith('./')) && !text.includes('\n')) {
    if (!existsSync(text)) throw new HubError('TL_ERR_CONFIG_INVALID', `JWT_PUBLIC_KEYS names a file that does not exist: ${text}`, { variable: 'JWT_PUBLIC_KEYS' });
    text = readFileSync(text, 'utf8').trim();
  }
  const bad = (why: string) => new HubError('TL_ERR_CONFIG_INVALID', `JWT_PUBLIC_KEYS: ${why}`, { variable: 'JWT_PUBLIC_KEYS' });
  let keys: JWK[];
  if (text.startsWith('{') || text.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw bad(`not valid JSON (${(err as Error).message})`);
    }
    const list = Array.isArray(parsed) ? parsed : (parsed as { keys?: unknown }).keys;
    if (!Array.isArray(list) || list.length === 0) throw bad('expected a JWKS {"keys": [...]} or an array of JWKs with at least one key');
    keys = list as JWK[];
  } else {
    const blocks = text.match(/-----BEGIN [A-Z ]+-----[\s\S]+?-----END [A-Z ]+-----/g);
    if (!blocks) throw bad('expected a JWKS JSON, PEM public keys, or a path to a file holding them');
    keys = [];
    for (const pem of blocks) {
      if (/PRIVATE KEY/.test(pem)) throw bad('contains a private key; give the public key only');
      let key: KeyObject;
      try {
        key = createPublicKey(pem);
      } catch (err) {
        throw bad(`a PEM block could not be read (${(err as Error).message})`);
      }
      const jwk = key.export({ format: 'jwk' }) as JWK;
      keys.push({ ...jwk, kid: await calculateJwkThumbprint(jwk) });
    }
  }
  return {
    keys: keys.map((k, i) => {
      if (!k || typeof k !== 'object' || typeof k.kty !== 'string') throw bad(`key ${i} is not a JWK`);
      if ('d' in k) throw bad(`key ${k.kid ?? i} is a private key; give the public key only`);
      if (k.kty === 'oct') throw bad(`key ${k.kid ?? i} is a symmetric key; use JWT_SECRET for HS tokens`);
      const alg = k.alg ?? inferAlg(k);
      return { ...k, ...(alg ? { alg } : {}), use: k.use ?? 'sig' };
    }),
  };
}

/** Map a jose error (or another failure) to a clear TL_ERR_UNAUTHENTICATED. */
function explain(err: unknown, header: { kid?: string; alg?: string }): HubError {
  if (err instanceof HubError) return err;
  const e = err as { code?: string; claim?: string; reason?: string; message?: string };
  switch (e.code) {
    case 'ERR_JWT_EXPIRED': return failure('expired', 'token expired');
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (e.claim === 'iss') return failure('wrong_issuer', 'token issuer is not the configured issuer');
      if (e.claim === 'aud') return failure('wrong_audience', 'token audience does not include the configured audience');
      if (e.claim === 'nbf') return failure('not_yet_valid', 'token is not valid yet (nbf)');
      if (e.claim === 'iat') return failure('expired', `token too old or issued in the future (${e.message})`);
      return failure('invalid_claims', `token claim ${e.claim ?? ''} invalid: ${e.message}`);
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED': return failure('bad_signature', 'token signature is not valid');
    case 'ERR_JWKS_NO_MATCHING_KEY': return failure('unknown_key', `token is signed with an unknown key${header.kid ? ` (kid ${header.kid})` : ''}`);
    case 'ERR_JOSE_ALG_NOT_ALLOWED': return failure('algorithm_not_allowed', `token algorithm ${header.alg ?? '?'} is not accepted`);
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID': return failure('malformed', `token is malformed (${e.message})`);
    case 'ERR_JOSE_NOT_SUPPORTED': return failure('algorithm_not_allowed', `token uses an unsupported algorithm or key (${e.message})`);
    case 'ERR_JWKS_TIMEOUT':
      return new HubError('TL_ERR_DEPENDENCY_DOWN', 'The identity provider\'s key set (JWT_JWKS_URL) did not answer in time');
    case 'ERR_JWKS_INVALID':
      return new HubError('TL_ERR_DEPENDENCY_DOWN', `The identity provider's key set is not valid: ${e.message}`);
    default:
      if (e.code?.startsWith('ERR_')) return failure('malformed', `token rejected (${e.message})`);
      return new HubError('TL_ERR_DEPENDENCY_DOWN', `Token keys could not be loaded: ${e.message ?? String(err)}`, undefined, { cause: err });
  }
}

function decodeHeader(token: string): { kid?: string; alg?: string } {
  try {
    const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8'));
    return header && typeof header === 'object' ? header : {};
  } catch {
    return {};
  }
}

export function createAuthenticator(config: AuthConfig, pool?: Queryable | null, options: AuthenticatorOptions = {}): Authenticator {
  const secret = jwtSecretOf(config);
  const secretKey = secret ? createSecretKey(Buffer.from(secret, 'utf8')) : null;
  if (config.JWT_JWKS_URL) {
    let url: URL;
    try {
      url = new URL(config.JWT_JWKS_URL);
    } catch {
      throw new HubError('TL_ERR_CONFIG_INVALID', `JWT_JWKS_URL is not a URL: ${config.JWT_JWKS_URL}`, { variable: 'JWT_JWKS_URL' });
    }
    if (config.NODE_ENV === 'production' && url.protocol !== 'https:') {
      throw new HubError('TL_ERR_CONFIG_INVALID', 'JWT_JWKS_URL must be https in production', { variable: 'JWT_JWKS_URL' });
    }
  }
  const remote = config.JWT_JWKS_URL
    ? createRemoteJWKSet(new URL(config.JWT_JWKS_URL), { timeoutDuration: options.jwksTimeoutMs ?? 3000, cooldownDuration: options.jwksCooldownMs ?? 30_000, cacheMaxAge: 10 * 60_000 })
    : null;
  // Parsed once, on first use; a bad JWT_PUBLIC_KEYS fails every request with the configuration error.
  const local: Promise<ReturnType<typeof createLocalJWKSet> | null> = config.JWT_PUBLIC_KEYS
    ? parseStaticKeys(config.JWT_PUBLIC_KEYS).then((jwks) => createLocalJWKSet(jwks))
    : Promise.resolve(null);
  local.catch(() => undefined);
  const apiKeys = options.apiKeys ?? (pool ? createApiKeyVerifier(pool) : null);

  const algorithms = [...(secretKey ? SYMMETRIC : []), ...(remote || config.JWT_PUBLIC_KEYS ? ASYMMETRIC : [])];
  const verifyOptions: JWTVerifyOptions = {
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    algorithms,
    clockTolerance: options.clockToleranceSec ?? 30,
    requiredClaims: ['exp', 'sub'],
    ...(options.maxTokenAge ? { maxTokenAge: options.maxTokenAge } : {}),
  };

  const getKey: JWTVerifyGetKey = async (header, token) => {
    if (header.alg?.startsWith('HS')) {
      if (!secretKey) throw failure('algorithm_not_allowed', `token algorithm ${header.alg} is not accepted (no JWT_SECRET configured)`);
      return secretKey;
    }
    const set = await local;
    if (set) {
      try {
        return await set(header, token);
      } catch (err) {
        if (!remote || (err as { code?: string }).code !== 'ERR_JWKS_NO_MATCHING_KEY') throw err;
      }
    }
    if (remote) return remote(header, token);
    throw failure('unknown_key', `token is signed with ${header.alg ?? 'an algorithm'} but no public keys are configured (JWT_PUBLIC_KEYS or JWT_JWKS_URL)`);
  };

  async function verifyJwt(token: string): Promise<Record<string, unknown>> {
    try {
      return (await jwtVerify(token, getKey, verifyOptions)).payload;
    } catch (err) {
      // A kid-less token matching several keys of a set: try each (jose leaves this to the caller).
      const e = err as { code?: string } & Partial<AsyncIterable<KeyLike>>;
      if (e.code === 'ERR_JWKS_MULTIPLE_MATCHING_KEYS' && e[Symbol.asyncIterator]) {
        for await (const key of e as AsyncIterable<KeyLike>) {
          try {
            return (await jwtVerify(token, key, verifyOptions)).payload;
          } catch (inner) {
            if ((inner as { code?: string }).code !== 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') throw inner;
          }
        }
        throw failure('bad_signature', 'token signature is not valid');
      }
      throw err;
    }
  }

  const cacheMs = options.verifiedTokenCacheMs ?? 60_000;
  const verified = new Map<string, { identity: Identity; until: number }>();
  const copy = (i: Identity): Identity => ({ ...i, grids: [...i.grids], districts: [...i.districts], scopes: [...i.scopes] });

  return async (authorization) => {
    const value = (authorization ?? '').trim();
    if (!value) throw failure('missing', 'no Authorization header (send "Authorization: Bearer <token>")');
    const space = value.indexOf(' ');
    const scheme = (space < 0 ? value : value.slice(0, space)).toLowerCase();
    const credential = space < 0 ? '' : value.slice(space + 1).trim();
    if (scheme !== 'bearer' && scheme !== 'apikey') {
      throw failure('unsupported_scheme', `unsupported authorization scheme "${value.slice(0, Math.min(space < 0 ? value.length : space, 20))}" (use Bearer <token> or ApiKey <key>)`);
    }
    if (!credential) throw failure('missing', `the ${scheme === 'bearer' ? 'Bearer token' : 'API key'} is empty`);
    if (scheme === 'apikey' || looksLikeApiKey(credential)) {
      if (!apiKeys) throw failure('unknown_key', 'API keys are not enabled on this server');
      return apiKeys.verify(credential);
    }
    if (credential.split('.').length !== 3) throw failure('malformed', 'the Bearer token is not a JWT (three base64url parts)');
    const cached = verified.get(credential);
    if (cached) {
      if (Date.now() < cached.until) return copy(cached.identity);
      verified.delete(credential);
    }
    const header = decodeHeader(credential);
    let claims: Record<string, unknown>;
    try {
      claims = await verifyJwt(credential);
    } catch (err) {
      throw explain(err, header);
    }
    let identity: Identity;
    try {
      identity = identityFromClaims(claims);
    } catch (err) {
      throw failure('invalid_claims', `token claims invalid: ${(err as Error).message}`);
    }
    if (cacheMs > 0) {
      if (verified.size >= 10_000) verified.clear();
      verified.set(credential, { identity: copy(identity), until: Math.min(Date.now() + cacheMs, Number(claims.exp) * 1000) });
    }
    return identity;
  };
}
