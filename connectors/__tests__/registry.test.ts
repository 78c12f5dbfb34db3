import { getConnectorKind, joinSecrets, listConnectorKinds, redactSecrets, secretPaths, splitSecrets, validateConnectorConfig, REDACTED } from '../registry';

describe('connector registry', () => {
  test('lists the five kinds with their specs', () => {
    const kinds = listConnectorKinds();
    expect(kinds.map((k) => k.kind)).toEqual(['postgres', 'mysql', 'http', 'file', 'push']);
    for (const k of kinds) {
      expect(k.spec.kind).toBe(k.kind);
      expect(k.spec.configSchema.type).toBe('object');
      expect(getConnectorKind(k.kind).spec()).toBe(k.spec);
    }
  });

  test('an unknown kind is a configuration error naming the known ones', () => {
    expect(() => getConnectorKind('oracle')).toThrow(expect.objectContaining({ code: 'TL_ERR_CONNECTOR_CONFIG', message: expect.stringContaining('postgres, mysql, http, file, push') }));
  });

  test('validation fills defaults, freezes, and names the bad field without echoing values', () => {
    const config = validateConnectorConfig<Record<string, unknown>>('postgres', { database: 'police', user: 'reader', password: 's3cret-value' });
    expect(config).toMatchObject({ host: '127.0.0.1', port: 5432, schema: 'public', pageSize: 5000, timeZone: '+08:00' });
    expect(Object.isFrozen(config)).toBe(true);
    let error: { code?: string; message?: string; details?: { field?: string } } = {};
    try {
      validateConnectorConfig('http', { baseUrl: 'http://x', auth: { type: 'bearer' }, streams: [{ name: 'a', path: '/a', recordsPath: 7 }] });
    } catch (err) {
      error = err as typeof error;
    }
    expect(error.code).toBe('TL_ERR_CONNECTOR_CONFIG');
    expect(error.message).toContain('"auth.token" is required');
    expect(error.message).toContain('"streams.0.recordsPath" must be string');
    try {
      validateConnectorConfig('mysql', { database: 'd', user: 'u', password: 'hunter2-secret', port: 'x' });
    } catch (err) {
      expect((err as Error).message).not.toContain('hunter2');
      expect((err as { details: { field: string } }).details.field).toBe('port');
    }
  });

  test('secrets: found in nested objects and arrays, redacted, split and joined back', () => {
    const http = getConnectorKind('http').spec();
    expect(secretPaths(http).sort()).toEqual(['auth.password', 'auth.token']);
    expect(secretPaths({ type: 'object', properties: { list: { type: 'array', items: { type: 'object', properties: { key: { type: 'string', 'x-secret': true } } } } } })).toEqual(['list.*.key']);
    const config = { baseUrl: 'http://api', auth: { type: 'bearer', token: 'tok-123' }, streams: [{ name: 'p', path: '/p' }] };
    const redacted = redactSecrets(http, config);
    expect(redacted.auth.token).toBe(REDACTED);
    expect(config.auth.token).toBe('tok-123');
    const { config: publicPart, secrets } = splitSecrets(http, config);
    expect(JSON.stringify(publicPart)).not.toContain('tok-123');
    expect(secrets).toEqual({ auth: { token: 'tok-123' } });
    expect(joinSecrets(publicPart, secrets)).toEqual(config);
    // An update that sends the placeholder back keeps the stored secret; a new value wins.
    expect(joinSecrets(redacted as Record<string, unknown>, secrets)).toEqual(config);
    expect((joinSecrets({ ...publicPart, auth: { type: 'bearer', token: 'new' } }, secrets) as typeof config).auth.token).toBe('new');
    const push = getConnectorKind('push').spec();
    expect(splitSecrets(push, { token: 'x'.repeat(20), streams: [] }).secrets).toEqual({ token: 'x'.repeat(20) });
    expect(secretPaths(getConnectorKind('file').spec())).toEqual([]);
  });
});
