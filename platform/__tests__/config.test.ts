import { loadConfig } from '../config';

describe('configuration', () => {
  it('fills defaults and coerces types', () => {
    const c = loadConfig({ PORT: '4100', DEMO_LIVE: 'false' });
    expect(c.PORT).toBe(4100);
    expect(c.DEMO_LIVE).toBe(false);
    expect(c.REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('stops on a bad value with a message naming the variable', () => {
    expect(() => loadConfig({ PORT: 'abc' })).toThrow(/PORT must be integer/);
    expect(() => loadConfig({ REDIS_URL: 'http://x' })).toThrow(/REDIS_URL must match/);
    try {
      loadConfig({ PORT: '99999', LOG_LEVEL: 'loud' });
      throw new Error('expected a failure');
    } catch (err) {
      expect((err as { code: string }).code).toBe('TL_ERR_CONFIG_INVALID');
      expect((err as Error).message).toMatch(/PORT/);
      expect((err as Error).message).toMatch(/LOG_LEVEL/);
    }
  });

  it('requires secrets in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/SECRET_KEY, DATABASE_URL/);
  });
});
