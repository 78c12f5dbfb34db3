import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { isDepartment } from '../domain/departments';
import type { Queryable } from '../platform/db';
import { HubError } from '../platform/errors';
import { isRole, type Identity, type Role } from './identity';
import { validateScopeClaims } from './claims';

/**
 * API keys for integrators: `tlk_<id>_<secret>`, presented as `Authorization: ApiKey <key>` or
 * `Authorization: Bearer tlk_...`. The id finds the row; only a SHA-256 of the secret is stored (hub.api_keys,
 * migrations/0501_api_keys.sql) and compared in constant time. The full key is returned once by `createApiKey`.
 */
export const API_KEY_PREFIX = 'tlk_';
const KEY_FORMAT = /^tlk_([a-z0-9]{8,32})_([A-Za-z0-9_-]{32,128})$/;

export interface ApiKeySpec {
  name: string;
  role?: Role;
  department?: string | null;
  grids?: string[];
  districts?: string[];
  scopes?: string[];
  /** When the key stops working; null/undefined = never. */
  expiresAt?: Date | null;
  createdBy: string;
}

export interface ApiKeyRow {
  id: string;
  name: string;
  role: Role;
  department: string | null;
  grids: string[];
  districts: string[];
  scopes: string[];
  createdBy: string;
  createdAt: Date;
  expiresAt: Date | null;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

const hashSecret = (secret: string) => createHash('sha256').update(secret, 'utf8').digest('hex');

export function looksLikeApiKey(value: string): boolean {
  return value.startsWith(API_KEY_PREFIX);
}

/** Create a key; the returned `key` is the only time the secret is visible. */
export async function createApiKey(pool: Queryable, spec: ApiKeySpec): Promise<{ id: string; key: string; row: ApiKeyRow }> {
  if (!spec.name || typeof spec.name !== 'string') throw new HubError('TL_ERR_BAD_USER_INPUT', 'API key needs a name');
  const role = spec.role ?? 'integrator';
  if (!isRole(role)) throw new HubError('TL_ERR_BAD_USER_INPUT', `Unknown role ${JSON.stringify(role)}`);
  const claims = validateScopeClaims({ role, department: spec.department ?? undefined, grids: spec.grids ?? [], districts: spec.districts ?? [] });
  if (claims.problem) throw new HubError('TL_ERR_BAD_USER_INPUT', claims.problem);
  if (spec.expiresAt && !(spec.expiresAt instanceof Date && !Number.isNaN(spec.expiresAt.getTime()))) {
    throw new HubError('TL_ERR_BAD_USER_INPUT', 'expiresAt must be a valid date');
  }
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  const { rows } = await pool.query(
    `INSERT INTO hub.api_keys (id, name, secret_hash, role, department, grids, districts, scopes, created_by, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING *`,
    [id, spec.name, hashSecret(secret), role, spec.department ?? null, spec.grids ?? [], spec.districts ?? [], [...new Set(spec.scopes ?? [])], spec.createdBy, spec.expiresAt ?? null]);
  return { id, key: `${API_KEY_PREFIX}${id}_${secret}`, row: toRow(rows[0]) };
}

export async function revokeApiKey(pool: Queryable, id: string): Promise<boolean> {
  const { rowCount } = await pool.query('UPDATE hub.api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL', [id]);
  return (rowCount ?? 0) > 0;
}

export async function listApiKeys(pool: Queryable): Promise<ApiKeyRow[]> {
  const { rows } = await pool.query('SELECT * FROM hub.api_keys ORDER BY created_at');
  return rows.map(toRow);
}

function toRow(r: Record<string, unknown>): ApiKeyRow {
  return {
    id: r.id as string, name: r.name as string, role: r.role as Role, department: (r.department as string) ?? null,
    grids: (r.grids as string[]) ?? [], districts: (r.districts as string[]) ?? [], scopes: (r.scopes as string[]) ?? [],
    createdBy: r.created_by as string, createdAt: r.created_at as Date, expiresAt: (r.expires_at as Date) ?? null,
    revokedAt: (r.revoked_at as Date) ?? null, lastUsedAt: (r.last_used_at as Date) ?? null,
  };
}

const unauthenticated = (reason: string) => new HubError('TL_ERR_UNAUTHENTICATED', `Invalid API key: ${reason}`, { reason });

interface CachedKey {
  row: (ApiKeyRow & { secretHash: string }) | null;
  fetchedAt: number;
}

export interface ApiKeyVerifier {
  verify(presented: string): Promise<Identity>;
  /** Forget cached rows (after a revocation in this process). */
  clear(): void;
}

/**
 * Verifies presented keys. Rows are cached for `cacheMs` (default 10 s), so a revocation takes effect within
 * that time in every gateway process; `last_used_at` is touched at most once a minute per key.
 */
export function createApiKeyVerifier(pool: Queryable, options: { cacheMs?: number; now?: () => number } = {}): ApiKeyVerifier {
  const cacheMs = options.cacheMs ?? 10_000;
  const now = options.now ?? Date.now;
  const cache = new Map<string, CachedKey>();
  const touched = new Map<string, number>();

  async function load(id: string): Promise<CachedKey['row']> {
    const hit = cache.get(id);
    if (hit && now() - hit.fetchedAt < cacheMs) return hit.row;
    const { rows } = await pool.query('SELECT * FROM hub.api_keys WHERE id = $1', [id]);
    const row = rows[0] ? { ...toRow(rows[0]), secretHash: rows[0].secret_hash as string } : null;
    if (cache.size > 10_000) cache.clear();
    cache.set(id, { row, fetchedAt: now() });
    return row;
  }

  return {
    async verify(presented) {
      const m = KEY_FORMAT.exec(presented.trim());
      if (!m) throw unauthenticated('malformed (expected tlk_<id>_<secret>)');
      const [, id, secret] = m as unknown as [string, string, string];
      const row = await load(id);
      const given = Buffer.from(hashSecret(secret), 'hex');
      // Compare even for unknown ids, so timing does not tell which ids exist.
      const expected = Buffer.from(row?.secretHash ?? '0'.repeat(64), 'hex');
      const match = timingSafeEqual(given, expected);
      if (!row || !match) throw unauthenticated('unknown key');
      if (row.revokedAt) throw unauthenticated('revoked');
      if (row.expiresAt && row.expiresAt.getTime() <= now()) throw unauthenticated('expired');
      const last = touched.get(id) ?? 0;
      if (now() - last > 60_000) {
        touched.set(id, now());
        pool.query('UPDATE hub.api_keys SET last_used_at = now() WHERE id = $1', [id]).catch(() => undefined);
      }
      return {
        sub: `apikey:${row.id}`,
        role: row.role,
        ...(isDepartment(row.department) ? { department: row.department } : {}),
        grids: row.grids,
        districts: row.districts,
        scopes: row.scopes,
      };
    },
    clear() {
      cache.clear();
    },
  };
}
