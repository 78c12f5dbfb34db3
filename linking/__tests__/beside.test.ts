import { createTestDatabase, type TestDatabase } from '../../test/support/db';
import { connectAtOnce, inTransactionBeside } from '../beside';

/**
 * Work beside a batch (linking/beside.ts): its own connection only when one is free at once, its own transaction
 * (committed, or rolled back on failure), JIT and long lock waits off inside it, the connection given back.
 */
describe('work beside the batch', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('beside');
    // A free connection is an idle one in the pool: not one that has yet to come up (CI's parallel suites took longer
    // than connectAtOnce's 50 ms once).
    await db.warm(1);
  });
  afterAll(async () => { await db.drop(); });

  it('runs in a transaction of its own with JIT off and a lock timeout, and commits', async () => {
    const side = await connectAtOnce(db.pool);
    expect(side).not.toBeNull();
    const seen = await inTransactionBeside(side!, async (c) => {
      await c.query('CREATE TABLE beside_t (n int)');
      await c.query('INSERT INTO beside_t VALUES (1)');
      const r = await c.query<{ jit: string; lock_timeout: string; open: boolean }>(
        "SELECT current_setting('jit') AS jit, current_setting('lock_timeout') AS lock_timeout, now() = statement_timestamp() AS open");
      return r.rows[0]!;
    });
    // Inside a transaction: now() is its start, earlier than the statement's own time.
    expect(seen).toEqual({ jit: 'off', lock_timeout: '2s', open: false });
    expect((await db.pool.query('SELECT count(*)::int AS n FROM beside_t')).rows[0].n).toBe(1);
    // Outside it the session's own settings are back.
    expect((await db.pool.query("SELECT current_setting('jit') AS jit")).rows[0].jit).not.toBe('off');
  });

  it('rolls back when the work fails, and reports the failure', async () => {
    const side = await connectAtOnce(db.pool);
    await expect(inTransactionBeside(side!, async (c) => {
      await c.query('CREATE TABLE beside_u (n int)');
      throw new Error('work failed');
    })).rejects.toThrow('work failed');
    expect((await db.pool.query("SELECT to_regclass('beside_u') AS t")).rows[0].t).toBeNull();
  });

  it('does not wait for a connection that is not free at once', async () => {
    const held = await Promise.all(Array.from({ length: db.pool.options.max ?? 10 }, () => db.pool.connect()));
    try {
      expect(await connectAtOnce(db.pool, 20)).toBeNull();
    } finally {
      for (const c of held) c.release();
    }
    // The connection that came late was given back: the pool serves again.
    const again = await connectAtOnce(db.pool);
    expect(again).not.toBeNull();
    again!.release();
  });
});
