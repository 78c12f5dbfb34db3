import { createSecretKey } from 'node:crypto';
import { SignJWT } from 'jose';
import type { HubConfig } from '../platform/config';
import { HubError } from '../platform/errors';
import { jwtSecretOf } from './authenticate';
import { validateScopeClaims } from './claims';
import { isRole, type Role } from './identity';

/**
 * Development tokens (`npm run token`, tests): HS256 with JWT_SECRET (or the development secret), for the
 * configured issuer and audience. Refused in production: real tokens come from the city's identity provider.
 */
export interface DevTokenClaims {
  role: Role;
  sub?: string;
  department?: string;
  grids?: string[];
  districts?: string[];
  scopes?: string[];
  name?: string;
}

type TokenConfig = Pick<HubConfig, 'NODE_ENV' | 'JWT_ISSUER' | 'JWT_AUDIENCE' | 'JWT_SECRET' | 'JWT_JWKS_URL' | 'JWT_PUBLIC_KEYS'>;

/** '8h', '30m', '2d', '3600s' or seconds → seconds. */
export function parseDuration(value: string): number {
  const m = /^(\d+)\s*([smhd]?)$/.exec(value.trim());
  if (!m) throw new HubError('TL_ERR_BAD_USER_INPUT', `duration must look like 30m, 8h, 2d or 3600 (got ${JSON.stringify(value)})`);
  return Number(m[1]) * ({ '': 1, s: 1, m: 60, h: 3600, d: 86400 } as Record<string, number>)[m[2]!]!;
}

export async function signDevToken(config: TokenConfig, claims: DevTokenClaims, options: { ttl?: string; now?: Date } = {}): Promise<string> {
  if (config.NODE_ENV === 'production') {
    throw new HubError('TL_ERR_FORBIDDEN', 'Development tokens are refused in production: tokens come from the identity provider');
  }
  if (!isRole(claims.role)) throw new HubError('TL_ERR_BAD_USER_INPUT', `Unknown role ${JSON.stringify(claims.role)}`);
  const grids = claims.grids ?? [];
  const districts = claims.districts ?? [];
  const { problem } = validateScopeClaims({ role: claims.role, department: claims.department, grids, districts });
  if (problem) throw new HubError('TL_ERR_BAD_USER_INPUT', problem);
  const secret = jwtSecretOf(config);
  if (!secret) {
    throw new HubError('TL_ERR_CONFIG_INVALID', 'No JWT_SECRET to sign with: this hub verifies tokens with public keys only (set JWT_SECRET for development tokens)');
  }
  const ttl = parseDuration(options.ttl ?? '8h');
  const now = Math.floor((options.now ?? new Date()).getTime() / 1000);
  return new SignJWT({
    role: claims.role,
    ...(claims.department ? { department: claims.department } : {}),
    ...(grids.length ? { grids } : {}),
    ...(districts.length ? { districts } : {}),
    ...(claims.scopes?.length ? { scope: claims.scopes.join(' ') } : {}),
    ...(claims.name ? { name: claims.name } : {}),
  })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: 'dev' })
    .setSubject(claims.sub ?? `dev:${claims.role}`)
    .setIssuer(config.JWT_ISSUER)
    .setAudience(config.JWT_AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(now + ttl)
    .sign(createSecretKey(Buffer.from(secret, 'utf8')));
}
