import { createAuthenticator } from '../../security/authenticate';
import { tokenCommand } from '../token';

const env = { NODE_ENV: 'development', JWT_ISSUER: 'https://auth.example', JWT_AUDIENCE: 'hub' };

describe('npm run token', () => {
  it('prints a token the gateway authenticator accepts, for the configured issuer', async () => {
    const token = await tokenCommand(['--role', 'district-officer', '--district', '510104,510105', '--scope', 'pii:read'], env);
    const auth = createAuthenticator({ NODE_ENV: 'development', JWT_ISSUER: 'https://auth.example', JWT_AUDIENCE: 'hub', JWT_SECRET: '', JWT_JWKS_URL: '', JWT_PUBLIC_KEYS: '' });
    await expect(auth(`Bearer ${token}`)).resolves.toEqual({
      sub: 'dev:district-officer', role: 'district-officer', grids: [], districts: ['510104', '510105'], scopes: ['pii:read'],
    });
    const dept = await tokenCommand(['--role', 'department-admin', '--department', 'civil_affairs', '--sub', 'civ-1'], env);
    await expect(auth(`Bearer ${dept}`)).resolves.toMatchObject({ sub: 'civ-1', department: 'CIVIL_AFFAIRS' });
  });

  it('validates its arguments with clear errors', async () => {
    await expect(tokenCommand([], env)).rejects.toThrow(/--role is required/);
    await expect(tokenCommand(['--role', 'boss'], env)).rejects.toThrow(/unknown role "boss"/);
    await expect(tokenCommand(['--role', 'grid-worker'], env)).rejects.toThrow(/needs at least one grid/);
    await expect(tokenCommand(['--role', 'department-admin', '--department', 'TAX'], env)).rejects.toThrow(/department must be one of/);
    await expect(tokenCommand(['--role', 'analyst', '--ttl', 'forever'], env)).rejects.toThrow(/duration must look like/);
    await expect(tokenCommand(['--role', 'analyst', '--colour', 'red'], env)).rejects.toThrow(/Unknown option '--colour'/);
  });

  it('refuses in production', async () => {
    const prod = { NODE_ENV: 'production', SECRET_KEY: 'x'.repeat(32), DATABASE_URL: 'postgres://db/x', JWT_SECRET: 'y'.repeat(40) };
    await expect(tokenCommand(['--role', 'city-admin'], prod)).rejects.toThrow(/refused in production/);
  });
});
