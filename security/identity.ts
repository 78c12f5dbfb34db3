import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Department } from '../domain/departments';

/**
 * Who is asking. The gateway verifies the caller (JWT or API key), builds an Identity and forwards it to the
 * subgraphs in the `x-tonglan-identity` header, signed with the internal key, so a subgraph trusts only what
 * the gateway vouched for. A subgraph called without a valid header answers nothing (TL_ERR_UNAUTHENTICATED).
 */
export const ROLES = ['city-admin', 'district-officer', 'grid-worker', 'department-admin', 'integrator', 'analyst'] as const;
export type Role = (typeof ROLES)[number];

export interface Identity {
  /** Subject: user id, or `apikey:<id>` for integrators. */
  sub: string;
  role: Role;
  /** department-admin: the one department they administer. */
  department?: Department;
  /** grid-worker: the grid codes they serve. */
  grids: string[];
  /** district-officer: the district codes they oversee. */
  districts: string[];
  /** e.g. `pii:read` (unmasked sensitive fields). */
  scopes: string[];
}

export const IDENTITY_HEADER = 'x-tonglan-identity';
export const PII_READ = 'pii:read';

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

function sign(payload: string, key: string): string {
  return createHmac('sha256', key).update(payload).digest('base64url');
}

/**
 * Lifetime of a forwarded identity header. The gateway signs a fresh header per caller at least every 60 s
 * (gateway/data-source.ts), so a header captured on the internal network can be replayed for this long at most.
 */
export const IDENTITY_HEADER_TTL_SECONDS = 15 * 60;

/** `<base64url(json)>.<hmac>`; the JSON carries `exp` (epoch seconds) unless `ttlSeconds` is 0. */
export function encodeIdentity(identity: Identity, key: string, options: { ttlSeconds?: number; now?: number } = {}): string {
  const ttl = options.ttlSeconds ?? IDENTITY_HEADER_TTL_SECONDS;
  const body = ttl > 0 ? { ...identity, exp: Math.floor((options.now ?? Date.now()) / 1000) + ttl } : identity;
  const payload = Buffer.from(JSON.stringify(body), 'utf8').toString('base64url');
  return `${payload}.${sign(payload, key)}`;
}

/** The identity in a header value, or null when it is missing, malformed, expired or not signed with `key`. */
export function decodeIdentity(header: string | undefined | null, key: string, now: number = Date.now()): Identity | null {
  if (!header) return null;
  const dot = header.lastIndexOf('.');
  if (dot <= 0) return null;
  const payload = header.slice(0, dot);
  const given = Buffer.from(header.slice(dot + 1));
  const expected = Buffer.from(sign(payload, key));
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  try {
    const { exp, ...parsed } = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Identity & { exp?: unknown };
    if (!isRole(parsed.role) || typeof parsed.sub !== 'string') return null;
    if (exp !== undefined && (typeof exp !== 'number' || exp * 1000 < now)) return null;
    return { ...parsed, grids: parsed.grids ?? [], districts: parsed.districts ?? [], scopes: parsed.scopes ?? [] };
  } catch {
    return null;
  }
}
