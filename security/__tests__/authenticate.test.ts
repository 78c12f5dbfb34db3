import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWK, type KeyLike } from 'jose';
import { createPool, type Pool } from '../../platform/db';
import { createTestDatabase, type TestDatabase } from '../../test/support/db';
import { createApiKey, createApiKeyVerifier, revokeApiKey } from '../api-keys';
import { createAuthenticator, DEV_JWT_SECRET } from '../authenticate';
import { signDevToken } from '../dev-token';

const base = {
  NODE_ENV: 'test' as const,
  JWT_ISSUER: 'https://auth.tonglan.local',
  JWT_AUDIENCE: 'tonglan',
  JWT_SECRET: '',
  JWT_JWKS_URL: '',
  JWT_PUBLIC_KEYS: '',
};

async function reason(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    const e = err as { code?: string; details?: { reason?: string }; message: string };
    return `${e.code}:${e.details?.reason ?? e.message}`;
  }
  return 'accepted';
}

interface Pair { kid: string; privateKey: KeyLike; jwk: JWK; spki: string }
async function pair(kid: string, alg: 'RS256' | 'ES256'): Promise<Pair> {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg }, spki: await exportSPKI(publicKey) };
}

function sign(p: Pair, alg: string, claims: Record<string, unknown> = {}, opts: { kid?: string | null; exp?: string | number; iss?: string; aud?: string } = {}) {
  const header: Record<string, unknown> = { alg };
  if (opts.kid !== null) header.kid = opts.kid ?? p.kid;
  return new SignJWT({ role: 'city-admin', ...claims })
    .setProtectedHeader(header as { alg: string })
    .setSubject('u-1').setIssuer(opts.iss ?? base.JWT_ISSUER).setAudience(opts.aud ?? base.JWT_AUDIENCE)
    .setIssuedAt().setExpirationTime(opts.exp ?? '1h').sign(p.privateKey);
}

let rsaOld: Pair;
let rsaNew: Pair;
let ec: Pair;
beforeAll(async () => {
  [rsaOld, rsaNew, ec] = await Promise.all([pair('2026-old', 'RS256'), pair('2026-new', 'RS256'), pair('ec-1', 'ES256')]);
});

describe('JWT authentication with the development secret', () => {
  const auth = createAuthenticator(base);

  it('turns a development token into an identity', async () => {
    const token = await signDevToken(base, { role: 'grid-worker', grids: ['510104001001003'], scopes: ['pii:read'], sub: 'gw-3' });
    await expect(auth(`Bearer ${token}`)).resolves.toEqual({
      sub: 'gw-3', role: 'grid-worker', grids: ['510104001001003'], districts: [], scopes: ['pii:read'],
    });
    const dept = await signDevToken(base, { role: 'department-admin', department: 'POLICE' });
    await expect(auth(`bearer  ${dept}`)).resolves.toMatchObject({ role: 'department-admin', department: 'POLICE', sub: 'dev:department-admin' });
  });

  it('refuses missing, malformed and unsupported credentials with the reason', async () => {
    expect(await reason(auth(undefined))).toBe('TL_ERR_UNAUTHENTICATED:missing');
    expect(await reason(auth(''))).toBe('TL_ERR_UNAUTHENTICATED:missing');
    expect(await reason(auth('Bearer'))).toBe('TL_ERR_UNAUTHENTICATED:missing');
    expect(await reason(auth('Basic dXNlcjpwdw=='))).toBe('TL_ERR_UNAUTHENTICATED:unsupported_scheme');
    expect(await reason(auth('Bearer not-a-jwt'))).toBe('TL_ERR_UNAUTHENTICATED:malformed');
    expect(await reason(auth('Bearer a.b.c'))).toBe('TL_ERR_UNAUTHENTICATED:malformed');
    expect(await reason(auth('ApiKey tlk_abc'))).toBe('TL_ERR_UNAUTHENTICATED:unknown_key');
  });

  it('refuses expired, badly signed, wrong-issuer and wrong-audience tokens', async () => {
    const expired = await signDevToken(base, { role: 'analyst' }, { ttl: '1h', now: new Date(Date.now() - 3 * 3600_000) });
    expect(await reason(auth(`Bearer ${expired}`))).toBe('TL_ERR_UNAUTHENTICATED:expired');
    const other = await signDevToken({ ...base, JWT_SECRET: 'another-secret-of-sufficient-length!!' }, { role: 'analyst' });
    expect(await reason(auth(`Bearer ${other}`))).toBe('TL_ERR_UNAUTHENTICATED:bad_signature');
    const issuer = await signDevToken({ ...base, JWT_ISSUER: 'https://evil.example' }, { role: 'analyst' });
    expect(await reason(auth(`Bearer ${issuer}`))).toBe('TL_ERR_UNAUTHENTICATED:wrong_issuer');
    const audience = await signDevToken({ ...base, JWT_AUDIENCE: 'other-app' }, { role: 'analyst' });
    expect(await reason(auth(`Bearer ${audience}`))).toBe('TL_ERR_UNAUTHENTICATED:wrong_audience');
    // A tampered payload (role raised) breaks the signature.
    const good = await signDevToken(base, { role: 'analyst' });
    const [h, p, s] = good.split('.');
    const raised = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), role: 'city-admin' })).toString('base64url');
    expect(await reason(auth(`Bearer ${h}.${raised}.${s}`))).toBe('TL_ERR_UNAUTHENTICATED:bad_signature');
  });

  it('refuses unsigned tokens, tokens without exp, and tokens with invalid claims', async () => {
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 'x', role: 'city-admin', iss: base.JWT_ISSUER, aud: base.JWT_AUDIENCE, exp: 9999999999 })).toString('base64url')}.`;
    expect(await reason(auth(`Bearer ${none}`))).toMatch(/TL_ERR_UNAUTHENTICATED:(algorithm_not_allowed|malformed)/);
    const key = new TextEncoder().encode(DEV_JWT_SECRET);
    const noExp = await new SignJWT({ role: 'city-admin' }).setProtectedHeader({ alg: 'HS256' }).setSubject('x').setIssuer(base.JWT_ISSUER).setAudience(base.JWT_AUDIENCE).sign(key);
    expect(await reason(auth(`Bearer ${noExp}`))).toBe('TL_ERR_UNAUTHENTICATED:invalid_claims');
    const mk = (claims: Record<string, unknown>) => new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject('x')
      .setIssuer(base.JWT_ISSUER).setAudience(base.JWT_AUDIENCE).setExpirationTime('1h').sign(key);
    expect(await reason(auth(`Bearer ${await mk({ role: 'root' })}`))).toMatch(/invalid_claims/);
    expect(await reason(auth(`Bearer ${await mk({ role: 'grid-worker' })}`))).toMatch(/invalid_claims/);
    expect(await reason(auth(`Bearer ${await mk({ role: 'grid-worker', grids: ['5101%'] })}`))).toMatch(/invalid_claims/);
    expect(await reason(auth(`Bearer ${await mk({ role: 'department-admin', department: 'TAX' })}`))).toMatch(/invalid_claims/);
    await expect(auth(`Bearer ${await mk({ roles: ['x', 'analyst'], scp: ['pii:read'] })}`)).resolves.toMatchObject({ role: 'analyst', scopes: ['pii:read'] });
    const detail = await auth(`Bearer ${await mk({ role: 'grid-worker' })}`).catch((e: Error) => e.message);
    expect(detail).toMatch(/a grid-worker needs at least one grid/);
  });

  it('refuses development tokens in production and validates their arguments', async () => {
    await expect(signDevToken({ ...base, NODE_ENV: 'production' }, { role: 'analyst' })).rejects.toThrow(/refused in production/);
    await expect(signDevToken(base, { role: 'district-officer', districts: ['5101'] })).rejects.toThrow(/district codes are 6 digits/);
    await expect(signDevToken(base, { role: 'nobody' as never })).rejects.toThrow(/Unknown role/);
    expect(() => createAuthenticator({ ...base, NODE_ENV: 'production', JWT_SECRET: DEV_JWT_SECRET })).toThrow(/JWT_SECRET must be/);
  });
});

describe('verified-token cache', () => {
  it('remembers a verified token but never past its expiry, and hands out copies', async () => {
    const auth = createAuthenticator(base, null, { verifiedTokenCacheMs: 60_000, clockToleranceSec: 0 });
    const token = await signDevToken(base, { role: 'grid-worker', grids: ['510104001001003'] }, { ttl: '2' });
    const first = await auth(`Bearer ${token}`);
    first.grids.push('999999');
    const second = await auth(`Bearer ${token}`);
    expect(second.grids).toEqual(['510104001001003']);
    await new Promise((r) => setTimeout(r, 2200));
    expect(await reason(auth(`Bearer ${token}`))).toBe('TL_ERR_UNAUTHENTICATED:expired');
  });
});

describe('JWT authentication with public keys', () => {
  it('verifies a static JWKS by kid, and old keys only while they are listed (rotation)', async () => {
    const both = createAuthenticator({ ...base, JWT_PUBLIC_KEYS: JSON.stringify({ keys: [rsaNew.jwk, rsaOld.jwk, ec.jwk] }) });
    await expect(both(`Bearer ${await sign(rsaOld, 'RS256')}`)).resolves.toMatchObject({ role: 'city-admin', sub: 'u-1' });
    await expect(both(`Bearer ${await sign(rsaNew, 'RS256')}`)).resolves.toMatchObject({ role: 'city-admin' });
    await expect(both(`Bearer ${await sign(ec, 'ES256')}`)).resolves.toMatchObject({ role: 'city-admin' });
    // Without a kid, each key of the matching type is tried.
    await expect(both(`Bearer ${await sign(rsaOld, 'RS256', {}, { kid: null })}`)).resolves.toMatchObject({ role: 'city-admin' });
    const newOnly = createAuthenticator({ ...base, JWT_PUBLIC_KEYS: JSON.stringify([rsaNew.jwk]) });
    expect(await reason(newOnly(`Bearer ${await sign(rsaOld, 'RS256')}`))).toBe('TL_ERR_UNAUTHENTICATED:unknown_key');
    // A token that claims the new kid but was signed with the old key.
    expect(await reason(newOnly(`Bearer ${await sign(rsaOld, 'RS256', {}, { kid: '2026-new' })}`))).toBe('TL_ERR_UNAUTHENTICATED:bad_signature');
    // HS tokens are not accepted when only public keys are configured (no algorithm confusion).
    const hs = await signDevToken({ ...base, JWT_SECRET: 'x'.repeat(40) }, { role: 'city-admin' });
    expect(await reason(newOnly(`Bearer ${hs}`))).toBe('TL_ERR_UNAUTHENTICATED:algorithm_not_allowed');
    const expired = await sign(rsaNew, 'RS256', {}, { exp: Math.floor(Date.now() / 1000) - 120 });
    expect(await reason(newOnly(`Bearer ${expired}`))).toBe('TL_ERR_UNAUTHENTICATED:expired');
  });

  it('reads PEM public keys and refuses private keys', async () => {
    const auth = createAuthenticator({ ...base, JWT_PUBLIC_KEYS: `${rsaOld.spki}\n${ec.spki}` });
    await expect(auth(`Bearer ${await sign(rsaOld, 'RS256', {}, { kid: null })}`)).resolves.toMatchObject({ role: 'city-admin' });
    await expect(auth(`Bearer ${await sign(ec, 'ES256', {}, { kid: null })}`)).resolves.toMatchObject({ role: 'city-admin' });
    expect(await reason(auth(`Bearer ${await sign(rsaNew, 'RS256', {}, { kid: null })}`))).toBe('TL_ERR_UNAUTHENTICATED:bad_signature');
    const priv = await exportJWK(rsaOld.privateKey);
    const bad = createAuthenticator({ ...base, JWT_PUBLIC_KEYS: JSON.stringify([priv]) });
    expect(await reason(bad(`Bearer ${await sign(rsaOld, 'RS256')}`))).toMatch(/TL_ERR_CONFIG_INVALID:.*private key/);
  });

  describe('remote JWKS', () => {
    let server: Server;
    let served: JWK[] = [];
    let fetches = 0;
    let url = '';
    beforeAll(async () => {
      server = createServer((_req, res) => {
        fetches += 1;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ keys: served }));
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
    });
    afterAll(() => new Promise<void>((r) => server.close(() => r())));

    it('fetches the key set, caches it, and refetches on an unknown kid after the provider rotates', async () => {
      served = [rsaOld.jwk];
      const auth = createAuthenticator({ ...base, JWT_JWKS_URL: url }, null, { jwksCooldownMs: 0 });
      await expect(auth(`Bearer ${await sign(rsaOld, 'RS256')}`)).resolves.toMatchObject({ role: 'city-admin' });
      await expect(auth(`Bearer ${await sign(rsaOld, 'RS256')}`)).resolves.toMatchObject({ role: 'city-admin' });
      expect(fetches).toBe(1);
      served = [rsaNew.jwk, rsaOld.jwk];
      await expect(auth(`Bearer ${await sign(rsaNew, 'RS256')}`)).resolves.toMatchObject({ role: 'city-admin' });
      expect(fetches).toBe(2);
      served = [rsaNew.jwk];
      expect(await reason(auth(`Bearer ${await sign(ec, 'ES256')}`))).toBe('TL_ERR_UNAUTHENTICATED:unknown_key');
    });

    it('reports an unreachable key set as a dependency failure, not as a bad token', async () => {
      const auth = createAuthenticator({ ...base, JWT_JWKS_URL: 'http://127.0.0.1:9/jwks.json' });
      expect(await reason(auth(`Bearer ${await sign(rsaOld, 'RS256')}`))).toMatch(/^TL_ERR_DEPENDENCY_DOWN/);
    });
  });
});

describe('API keys', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('apikeys');
  });
  const afterAllPools: Pool[] = [];
  afterAll(async () => {
    await Promise.all(afterAllPools.map((p) => p.end()));
    await db.drop();
  });

  it('authenticates integrators by hashed key, and refuses wrong, revoked and expired keys', async () => {
    const { id, key } = await createApiKey(db.pool, { name: '12345 热线平台', grids: ['510104001001'], scopes: ['pii:read'], createdBy: 'admin-1' });
    const { rows } = await db.pool.query('SELECT secret_hash FROM hub.api_keys WHERE id = $1', [id]);
    expect(key).toMatch(/^tlk_[a-f0-9]{16}_[A-Za-z0-9_-]{43}$/);
    expect(rows[0].secret_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(key).not.toContain(rows[0].secret_hash);

    // The gateway verifies keys as its own database role, which may read keys but not change them.
    const gateway = createPool(db.url, { role: 'tonglan_gateway', max: 1 });
    afterAllPools.push(gateway);
    await expect(gateway.query(`UPDATE hub.api_keys SET role = 'city-admin'`)).rejects.toThrow(/permission denied/);
    const verifier = createApiKeyVerifier(gateway, { cacheMs: 0 });
    const auth = createAuthenticator(base, gateway, { apiKeys: verifier });
    const identity = { sub: `apikey:${id}`, role: 'integrator', grids: ['510104001001'], districts: [], scopes: ['pii:read'] };
    await expect(auth(`ApiKey ${key}`)).resolves.toEqual(identity);
    await expect(auth(`Bearer ${key}`)).resolves.toEqual(identity);
    expect(await reason(auth(`ApiKey ${key.slice(0, -2)}xx`))).toBe('TL_ERR_UNAUTHENTICATED:unknown key');
    expect(await reason(auth(`ApiKey tlk_0000000000000000_${'a'.repeat(43)}`))).toBe('TL_ERR_UNAUTHENTICATED:unknown key');
    expect(await reason(auth('ApiKey tlk_short'))).toMatch(/malformed/);

    expect(await revokeApiKey(db.pool, id)).toBe(true);
    expect(await reason(auth(`ApiKey ${key}`))).toBe('TL_ERR_UNAUTHENTICATED:revoked');

    const old = await createApiKey(db.pool, { name: 'old', createdBy: 'admin-1', expiresAt: new Date(Date.now() - 1000) });
    expect(await reason(auth(`ApiKey ${old.key}`))).toBe('TL_ERR_UNAUTHENTICATED:expired');
    await expect(createApiKey(db.pool, { name: 'x', createdBy: 'a', grids: ['bad'] })).rejects.toThrow(/grid codes/);
  });

  it('caches rows for a bounded time and records last use', async () => {
    let t = Date.now();
    const verifier = createApiKeyVerifier(db.pool, { cacheMs: 5000, now: () => t });
    const { id, key } = await createApiKey(db.pool, { name: 'cached', createdBy: 'admin-1' });
    await verifier.verify(key);
    await revokeApiKey(db.pool, id);
    await expect(verifier.verify(key)).resolves.toMatchObject({ role: 'integrator' });
    t += 6000;
    await expect(verifier.verify(key)).rejects.toThrow(/revoked/);
    const { rows } = await db.pool.query('SELECT last_used_at FROM hub.api_keys WHERE id = $1', [id]);
    expect(rows[0].last_used_at).not.toBeNull();
  });
});
