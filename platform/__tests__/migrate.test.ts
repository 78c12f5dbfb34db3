import pg from 'pg';
import { createPool } from '../db';
import { listMigrations, migrate } from '../migrate';
import { createTestDatabase, type TestDatabase } from '../../test/support/db';

describe('migrations', () => {
  let db: TestDatabase;
  beforeAll(async () => { db = await createTestDatabase('migrate', { migrated: false }); });
  afterAll(async () => { await db.drop(); });

  it('applies every migration once, even when two processes start together', async () => {
    const [a, b] = await Promise.all([migrate(db.url), migrate(db.url)]);
    const all = listMigrations().map((m) => m.name);
    expect([...a, ...b].sort()).toEqual(all.sort());
    expect(await migrate(db.url)).toEqual([]);
    const { rows } = await db.pool.query('SELECT name FROM hub.schema_migrations ORDER BY version');
    expect(rows.map((r) => r.name)).toEqual(all);
  });

  it('gives each subgraph role rights on its own schema only', async () => {
    const police = createPool(db.url, { role: 'tonglan_police', max: 1 });
    try {
      await expect(police.query('SELECT count(*) FROM police.incidents')).resolves.toBeDefined();
      await expect(police.query('SELECT count(*) FROM civil.subsidies')).rejects.toThrow(/permission denied/);
      await expect(police.query('SELECT count(*) FROM core.persons')).rejects.toThrow(/permission denied/);
      await expect(police.query(`INSERT INTO police.incidents (incident_no, _connector_id, _record_key, _row_hash)
        VALUES ('x', gen_random_uuid(), 'k', 'h')`)).rejects.toThrow(/permission denied/);
    } finally {
      await police.end();
    }
  });

  it('keeps the audit log append-only', async () => {
    await db.pool.query(`INSERT INTO hub.audit_log (actor, kind, hash) VALUES ('t', 'pii_read', 'h')`);
    await expect(db.pool.query(`UPDATE hub.audit_log SET actor = 'x'`)).rejects.toThrow(/append-only/);
    await expect(db.pool.query(`DELETE FROM hub.audit_log`)).rejects.toThrow(/append-only/);
  });

  it('refuses an applied migration that was edited', async () => {
    await db.pool.query(`UPDATE hub.schema_migrations SET checksum = 'edited' WHERE version = '0001'`);
    await expect(migrate(db.url)).rejects.toMatchObject({ code: 'TL_ERR_MIGRATION' });
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    await client.end();
  });
});
