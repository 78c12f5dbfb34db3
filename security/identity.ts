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

/** `<base64url(json)>.<hmac>` */
export function encodeIdentity(identity: Identity, key: string): string {
  const payload = Buffer.from(JSON.stringify(identity), 'utf8').toString('base64url');
  return `${payload}.${sign(payload, key)}`;
}

/** The identity in a header value, or null when it is missing, malformed or not signed with `key`. */
export function decodeIdentity(header: string | undefined | null, key: string): Identity | null {
  if (!header) return null;
  const dot = header.lastIndexOf('.');
  if (dot <= 0) return null;
  const payload = header.slice(0, dot);
  const given = Buffer.from(header.slice(dot + 1));
  const expected = Buffer.from(sign(payload, key));
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  try {
    const parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Identity;
    if (!isRole(parsed.role) || typeof parsed.sub !== 'string') return null;
    return { ...parsed, grids: parsed.grids ?? [], districts: parsed.districts ?? [], scopes: parsed.scopes ?? [] };
  } catch {
    return null;
  }
}
