import { createPool, type Pool } from '../../platform/db';
import { createTestDatabase, type TestDatabase } from '../../test/support/db';
import { auditEntry, createAuditLog, verifyChain } from '../audit';
import type { Identity } from '../identity';

const HUB_ROLES = ['tonglan_core', 'tonglan_police', 'tonglan_justice', 'tonglan_civil', 'tonglan_petition', 'tonglan_admin', 'tonglan_sync'];
const P1 = '11111111-1111-4111-8111-111111111111';
const P2 = '22222222-2222-4222-8222-222222222222';
const admin: Identity = { sub: 'admin-1', role: 'city-admin', grids: [], districts: [], scopes: [] };
const worker: Identity = { sub: 'gw-7', role: 'grid-worker', grids: ['510104001001003'], districts: [], scopes: ['pii:read'] };

let db: TestDatabase;
const rolePools = new Map<string, Pool>();

beforeAll(async () => {
  db = await createTestDatabase('audit');
  for (const role of HUB_ROLES) rolePools.set(role, createPool(db.url, { role, max: 2 }));
});
afterAll(async () => {
  await Promise.all([...rolePools.values()].map((p) => p.end()));
  await db.drop();
});

describe('audit log', () => {
  it('lets every hub role append, chaining each entry to the one before', async () => {
    for (const role of HUB_ROLES) {
      const log = createAuditLog(rolePools.get(role)!);
      const row = await log.record(auditEntry(worker, 'pii_read', { operation: `Op_${role}`, persons: [P1], fields: ['Person.idNumber'] }));
      expect(row.id).toBeGreaterThan(0);
      expect(row.hash).toMatch(/^[0-9a-f]{64}$/);
    }
    const report = await verifyChain(db.pool);
    expect(report).toMatchObject({ ok: true, entries: HUB_ROLES.length, problems: [] });
    const { rows } = await db.pool.query('SELECT id, prev_hash, hash FROM hub.audit_log ORDER BY id');
    expect(rows[0].prev_hash).toBeNull();
    for (let i = 1; i < rows.length; i++) expect(rows[i].prev_hash).toBe(rows[i - 1].hash);
    expect(report.headHash).toBe(rows[rows.length - 1].hash);
  });

  it('ignores a forged hash, id or time given by the writer', async () => {
    const pool = rolePools.get('tonglan_police')!;
    const { rows } = await pool.query(
      `INSERT INTO hub.audit_log (id, at, actor, kind, hash, prev_hash) VALUES (999999, '2000-01-01', 'x', 'denied', 'forged', 'forged') RETURNING id, at, hash`);
    expect(rows[0].id).not.toBe(999999);
    expect(rows[0].hash).not.toBe('forged');
    expect(new Date(rows[0].at).getFullYear()).toBeGreaterThan(2020);
    expect((await verifyChain(db.pool)).ok).toBe(true);
  });

  it('keeps the chain linear under concurrent writers from several pools', async () => {
    const writers = HUB_ROLES.slice(0, 4).map((r) => createAuditLog(rolePools.get(r)!));
    await Promise.all(Array.from({ length: 40 }, (_, i) =>
      writers[i % writers.length]!.record({ actor: `c-${i}`, role: 'grid-worker', kind: 'denied', operation: 'persons', detail: { i, note: '网格外' } })));
    const report = await verifyChain(db.pool);
    expect(report.problems).toEqual([]);
    expect(report.entries).toBe(HUB_ROLES.length + 1 + 40);
  });

  it('refuses UPDATE, DELETE and TRUNCATE by every hub role', async () => {
    for (const role of HUB_ROLES) {
      const pool = rolePools.get(role)!;
      await expect(pool.query(`UPDATE hub.audit_log SET actor = 'x'`)).rejects.toThrow(/permission denied|append-only/);
      await expect(pool.query('DELETE FROM hub.audit_log')).rejects.toThrow(/permission denied|append-only/);
      await expect(pool.query('TRUNCATE hub.audit_log')).rejects.toThrow(/permission denied|append-only/);
      await expect(pool.query('UPDATE hub.audit_chain_head SET hash = NULL')).rejects.toThrow(/permission denied/);
    }
    // Nor may any of them add a trigger that would rewrite entries before they are chained.
    for (const role of HUB_ROLES) {
      const pool = rolePools.get(role)!;
      await expect(pool.query(`CREATE TRIGGER sneaky BEFORE INSERT ON hub.audit_log FOR EACH ROW EXECUTE FUNCTION hub.audit_log_chain()`))
        .rejects.toThrow(/permission denied|must be owner/);
    }
    // Even the superuser is stopped by the trigger while it is enabled.
    await expect(db.pool.query(`DELETE FROM hub.audit_log`)).rejects.toThrow(/append-only/);
  });

  it('lets only subgraph roles write, not read, the log; the admin role reads it', async () => {
    await expect(rolePools.get('tonglan_police')!.query('SELECT actor FROM hub.audit_log')).rejects.toThrow(/permission denied/);
    const { rows } = await rolePools.get('tonglan_admin')!.query('SELECT count(*)::int AS n FROM hub.audit_log');
    expect(rows[0].n).toBeGreaterThan(0);
  });

  it('answers a city admin with filters, and refuses anyone else', async () => {
    const log = createAuditLog(rolePools.get('tonglan_admin')!);
    await log.record(auditEntry(worker, 'pii_read', { operation: 'PersonCard', persons: [P2, 'not-a-uuid'], fields: ['Person.phone'] }));
    const rows = await log.query(admin, { personId: P2 });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ actor: 'gw-7', role: 'grid-worker', kind: 'pii_read', operation: 'PersonCard', persons: [P2], fields: ['Person.phone'] });
    expect(rows[0]!.detail).toEqual({ references: ['not-a-uuid'] });
    expect((await log.query(admin, { actor: 'gw-7', kind: 'pii_read' })).length).toBeGreaterThanOrEqual(HUB_ROLES.length + 1);
    expect(await log.query(admin, { kind: 'admin_change' })).toEqual([]);
    const page = await log.query(admin, { first: 3 });
    expect(page).toHaveLength(3);
    const next = await log.query(admin, { first: 3, beforeId: page[2]!.id });
    expect(next[0]!.id).toBeLessThan(page[2]!.id);
    await expect(log.query(worker, {})).rejects.toMatchObject({ code: 'TL_ERR_FORBIDDEN' });
    await expect(log.record({ actor: 'x', kind: 'bogus' as never })).rejects.toMatchObject({ code: 'TL_ERR_BAD_USER_INPUT' });
  });

  it('detects tampering by a superuser who disables the guard', async () => {
    expect((await verifyChain(db.pool)).ok).toBe(true);
    const { rows } = await db.pool.query('SELECT id, actor, hash FROM hub.audit_log ORDER BY id LIMIT 3');
    const [first, second, third] = rows.map((r) => Number(r.id));
    const client = await db.pool.connect();
    try {
      await client.query('ALTER TABLE hub.audit_log DISABLE TRIGGER audit_log_no_update');

      // 1. An edited entry no longer matches its hash.
      await client.query(`UPDATE hub.audit_log SET actor = 'someone-else' WHERE id = $1`, [second]);
      let report = await verifyChain(client);
      expect(report.ok).toBe(false);
      expect(report.problems).toEqual([{ id: second, reason: expect.stringMatching(/hash does not match the entry/) }]);

      // 2. Recomputing the edited entry's own hash moves the break to the next link.
      await client.query(`UPDATE hub.audit_log SET hash = repeat('0', 64) WHERE id = $1`, [second]);
      report = await verifyChain(client);
      expect(report.problems).toEqual(expect.arrayContaining([
        { id: second, reason: expect.stringMatching(/hash does not match/) },
        { id: third, reason: expect.stringMatching(/prev_hash does not match/) },
      ]));

      // 3. Restored, the chain verifies again.
      await client.query('UPDATE hub.audit_log SET actor = $2, hash = $3 WHERE id = $1', [second, rows[1].actor, rows[1].hash]);
      expect((await verifyChain(client)).ok).toBe(true);

      // 4. A deleted entry shows at the next link and in the head's count.
      await client.query('DELETE FROM hub.audit_log WHERE id = $1', [first]);
      report = await verifyChain(client);
      expect(report.ok).toBe(false);
      expect(report.problems[0]).toEqual({ id: second, reason: expect.stringMatching(/earlier entries were deleted/) });
      expect(report.problems.some((p) => /chain head counts/.test(p.reason))).toBe(true);

      // 5. A deleted tail shows at the head.
      const { rows: last } = await client.query('SELECT max(id)::int AS id FROM hub.audit_log');
      await client.query('DELETE FROM hub.audit_log WHERE id = $1', [last[0].id]);
      report = await verifyChain(client);
      expect(report.problems.some((p) => /chain head \(entry \d+\) does not match the last entry/.test(p.reason))).toBe(true);
    } finally {
      await client.query('ALTER TABLE hub.audit_log ENABLE TRIGGER audit_log_no_update');
      client.release();
    }
  });
});
