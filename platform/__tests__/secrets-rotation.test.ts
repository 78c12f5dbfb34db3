import { randomUUID } from 'node:crypto';
import { createWebhook } from '../../events/webhooks/webhook-store';
import type { Identity } from '../../security/identity';
import { connectorSettings } from '../../sync/connector-store';
import { createTestDatabase, type TestDatabase } from '../../test/support/db';
import { resetConfig } from '../config';
import { createSecretBox, DEV_SECRET_KEY, resetSecretBox } from '../secrets';
import { reencryptStoredSecrets } from '../secrets-rotation';

const base = { SECRET_KEYS_OLD: '', NODE_ENV: 'test' as const };
const admin: Identity = { sub: 'admin-1', role: 'city-admin', grids: [], districts: [], scopes: [] };
const saved = { key: process.env.SECRET_KEY, old: process.env.SECRET_KEYS_OLD };

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('secretrot');
});
afterAll(async () => {
  process.env.SECRET_KEY = saved.key ?? '';
  process.env.SECRET_KEYS_OLD = saved.old ?? '';
  if (saved.key === undefined) delete process.env.SECRET_KEY;
  if (saved.old === undefined) delete process.env.SECRET_KEYS_OLD;
  resetConfig();
  resetSecretBox();
  await db.drop();
});

function useProcessKey(key: string, old = '') {
  process.env.SECRET_KEY = key;
  process.env.SECRET_KEYS_OLD = old;
  resetConfig();
  resetSecretBox();
}

describe('rotation of stored secrets', () => {
  it('re-seals connector and webhook secrets written by their stores under the new key', async () => {
    useProcessKey('old-key-0123456789abcdef');
    const oldBox = createSecretBox({ ...base, SECRET_KEY: 'old-key-0123456789abcdef' });
    const connectorId = randomUUID();
    await db.pool.query(
      `INSERT INTO hub.connectors (id, department, name, kind, config, secrets) VALUES ($1, 'POLICE', '户籍库', 'postgres', $2, $3)`,
      [connectorId, JSON.stringify({ host: 'db.police.local', user: 'hub' }), JSON.stringify(oldBox.encrypt({ password: '口令-pw' }, `hub.connectors/${connectorId}`))]);
    const { webhook, secret } = await createWebhook(db.pool, admin, { url: 'https://example.org/hooks/tonglan' });

    const newBox = createSecretBox({ ...base, SECRET_KEY: 'new-key-fedcba9876543210', SECRET_KEYS_OLD: `old-key-0123456789abcdef,${DEV_SECRET_KEY}` });
    const reports = await reencryptStoredSecrets(db.pool, newBox);
    expect(reports).toEqual([
      { table: 'hub.connectors', total: 1, reencrypted: 1, alreadyCurrent: 0, failed: [] },
      { table: 'hub.webhooks', total: 1, reencrypted: 1, alreadyCurrent: 0, failed: [] },
    ]);
    // Idempotent.
    expect((await reencryptStoredSecrets(db.pool, newBox)).map((r) => r.alreadyCurrent)).toEqual([1, 1]);

    // With only the new key configured, the stores' own readers still open what they wrote.
    useProcessKey('new-key-fedcba9876543210');
    const settings = await connectorSettings(db.pool, connectorId);
    expect(settings.config).toMatchObject({ host: 'db.police.local', password: '口令-pw' });
    const { rows } = await db.pool.query('SELECT secret FROM hub.webhooks WHERE id = $1', [webhook.id]);
    const onlyNew = createSecretBox({ ...base, SECRET_KEY: 'new-key-fedcba9876543210' });
    expect(onlyNew.decrypt(rows[0].secret, `hub.webhooks:${webhook.id}`)).toBe(secret);
  });

  it('reports, and leaves alone, envelopes no configured key opens', async () => {
    const stranger = createSecretBox({ ...base, SECRET_KEY: 'somebody-elses-key-000' });
    const id = randomUUID();
    await db.pool.query(
      `INSERT INTO hub.connectors (id, department, name, kind, secrets) VALUES ($1, 'JUSTICE', '矫正库', 'mysql', $2)`,
      [id, JSON.stringify(stranger.encrypt({ password: 'x' }, `hub.connectors/${id}`))]);
    const box = createSecretBox({ ...base, SECRET_KEY: 'new-key-fedcba9876543210' });
    const [connectors] = await reencryptStoredSecrets(db.pool, box);
    expect(connectors!.failed).toEqual([{ id, reason: expect.stringMatching(/neither SECRET_KEY nor listed in SECRET_KEYS_OLD/) }]);
    const { rows } = await db.pool.query('SELECT secrets FROM hub.connectors WHERE id = $1', [id]);
    expect(stranger.decrypt(rows[0].secrets, `hub.connectors/${id}`)).toEqual({ password: 'x' });
  });
});
