import { generateIdNumber } from '../../domain/id-number';
import { withTransaction } from '../../platform/db';
import { createTestDatabase, type TestDatabase } from '../../test/support/db';
import { linkPersons } from '../index';
import { OpenKeySet } from '../open-keys';
import type { PersonMention } from '../types';
import { mentionsOf } from './fixtures';

/**
 * The keys of persons without an ID number as a process keeps them (linking/open-keys.ts): read once, then only the
 * rows added since; a superset of the table's; read again from the start when the key tables are rebuilt.
 */
const mention = mentionsOf('CIVIL_AFFAIRS', 'civil.care_services');

describe('person linking: the keys of persons without a number, kept by the process', () => {
  let db: TestDatabase;
  beforeAll(async () => { db = await createTestDatabase('linkopenkeys'); });
  afterAll(async () => { await db.drop(); });

  const link = (ms: PersonMention[]) => withTransaction(db.pool, (c) => linkPersons(c, ms));
  const tableKeys = async () => new Set((await db.pool.query<{ key: string }>('SELECT key FROM core.person_open_keys')).rows.map((r) => r.key));
  /** Reads the set as a batch does (under the linking lock, in a transaction) and counts the keys the database sent. */
  const read = (set: OpenKeySet) => withTransaction(db.pool, async (c) => {
    let sent = 0;
    const original = c.query;
    (c as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      const r = (original as (...a: unknown[]) => Promise<{ rows: Array<{ keys?: string[] | null }> }>).apply(c, args);
      return r.then((res) => { sent += res.rows[0]?.keys?.length ?? 0; return res; });
    };
    try {
      const keys = await set.read(c);
      return { keys: keys && new Set(keys), sent };
    } finally {
      c.query = original;
    }
  });

  it('reads the table once, then only what was added; keeps keys that left it; starts again after a rebuild', async () => {
    await link([mention({ name: '孔令辉', birthDate: '1951-03-04', phone: '13600001111' })]);
    const set = new OpenKeySet();
    const first = await read(set);
    const before = await tableKeys();
    expect(before.size).toBeGreaterThan(0);
    expect(first.keys).toEqual(before);
    expect(first.sent).toBe(before.size);
    // Nothing new: nothing sent.
    expect((await read(set)).sent).toBe(0);
    // A second person without a number: only its keys come.
    await link([mention({ name: '孔秀兰', birthDate: '1953-07-08', phone: '13600002222' })]);
    const after = await tableKeys();
    const second = await read(set);
    expect(second.keys).toEqual(after);
    expect(second.sent).toBe(after.size - before.size);
    // A key any character may be part of (a department's group key with the old separator in it) is kept as it is.
    await link([mention({ name: '孔德明', groupKey: 'CIVIL_AFFAIRS:care:站\u001f1' })]);
    const withGroup = await read(set);
    expect([...withGroup.keys!].some((k) => k.includes('\u001f'))).toBe(true);
    expect(withGroup.keys).toEqual(await tableKeys());
    // Keys that leave the table (a merge's dropped person) stay in the set: a superset, looked up in vain.
    await db.pool.query(`DELETE FROM core.person_open_keys WHERE key LIKE 'ph:13600001111'`);
    expect((await read(set)).keys!.has('ph:13600001111')).toBe(true);
    // The key tables lost and rebuilt (a crash empties them and their unlogged sequence starts again; the next batch
    // rebuilds them): the set is read from the start, new rows numbered below the last one read included.
    await db.pool.query('TRUNCATE core.person_keys, core.person_open_keys RESTART IDENTITY');
    expect((await read(set)).keys).toBeNull();
    await link([mention({ name: '孔繁森', birthDate: '1944-07-07', phone: '13600003333' })]);
    const rebuilt = await tableKeys();
    expect(rebuilt.has('ph:13600003333')).toBe(true);
    const fresh = await read(set);
    expect(fresh.keys).toEqual(rebuilt);
    expect(fresh.keys!.has('ph:13600001111')).toBe(true);
  });

  it('gives the set up past its bound, and reads nothing but the generation until the tables are rebuilt', async () => {
    const set = new OpenKeySet(3);
    await link([mention({ name: '孔秀兰', birthDate: '1953-07-08', phone: '13600002222' })]);
    expect((await tableKeys()).size).toBeGreaterThan(3);
    expect((await read(set)).keys).toBeNull();
    const again = await read(set);
    expect(again.keys).toBeNull();
    expect(again.sent).toBe(0);
    // Rebuilt with fewer keys than the bound: kept again.
    await db.pool.query('TRUNCATE core.person_keys, core.person_open_keys');
    await db.pool.query(`DELETE FROM core.person_records WHERE person_id IN (SELECT id FROM core.persons WHERE id_number IS NULL AND name <> '孔德明')`);
    await link([mention({ name: '孔令辉', idNumber: generateIdNumber('510104', '1960-01-01', 11, 'M') })]);
    const rebuilt = await tableKeys();
    expect(rebuilt.size).toBeLessThanOrEqual(3);
    expect((await read(set)).keys).toEqual(rebuilt);
  });
});
