import { generateIdNumber } from '../../domain/id-number';
import { withTransaction } from '../../platform/db';
import { waitFor } from '../../events/testing/outbox-fixtures';
import { createTestDatabase, type TestDatabase } from '../../test/support/db';
import { linkPersons } from '../index';
import { candidateRead, INDEX_PROBES_ON, personLinkingStats } from '../person-linking';
import { absorbPerson } from '../review';
import { personFeatures } from '../person-features';
import { storedKeys } from '../person-normalise';
import type { PersonMention } from '../types';
import { mentionsOf, withOutsiderPerson } from './fixtures';

/**
 * The write path of person linking (docs/linking.md, "Throughput"): the key tables are derived data (unlogged,
 * rebuilt from core.person_records after a crash), links are COPYed with a fallback when someone outside
 * linking wrote the record first, new persons get time-ordered ids.
 */
const mention = mentionsOf('CIVIL_AFFAIRS', 'civil.subsidies');

describe('person linking: keys and writes', () => {
  let db: TestDatabase;
  beforeAll(async () => { db = await createTestDatabase('linkkeys'); });
  afterAll(async () => { await db.drop(); });

  const link = (ms: PersonMention[]) => withTransaction(db.pool, (c) => linkPersons(c, ms));
  const keysOf = async (personId: string) => (await db.pool.query<{ key: string }>(
    'SELECT key FROM core.person_keys WHERE person_id = $1 ORDER BY key', [personId])).rows.map((r) => r.key);

  it('stores the keys linking computes, and rebuilds them from the link store when the key tables were emptied (a crash)', async () => {
    const m = mention({ name: '黄晓明', birthDate: '1977-11-13', sex: 'M', phone: '13700001234', idNumber: '51010419771113123', groupKey: 'CIVIL_AFFAIRS:household:99' });
    const [a] = await link([m]);
    // An invalid ID number (17 digits): evidence only, stored as a raw: key.
    const expected = storedKeys(personFeatures(m, null)).sort();
    expect(expected.some((k) => k.startsWith('raw:'))).toBe(true);
    expect(await keysOf(a!.personId)).toEqual(expected);
    const open = await db.pool.query('SELECT count(*)::int AS n FROM core.person_open_keys WHERE person_id = $1', [a!.personId]);
    expect(open.rows[0].n).toBe(expected.length);

    // An unlogged table after a crash: empty, sentinel and all.
    await db.pool.query('TRUNCATE core.person_keys, core.person_open_keys');
    // Phone + name + birth date: found only through the rebuilt keys.
    const [b] = await link([mention({ name: '黄晓明', birthDate: '1977-11-13', phone: '137 0000 1234', sourceTable: 'petition.petitions', department: 'PETITION' })]);
    expect(b!.personId).toBe(a!.personId);
    expect(b!.method).toBe('scored');
    expect(await keysOf(a!.personId)).toEqual(expected);
    const sentinel = await db.pool.query(`SELECT count(*)::int AS n FROM core.person_keys WHERE key = '~built'`);
    expect(sentinel.rows[0].n).toBe(1);
    const reopened = await db.pool.query('SELECT count(*)::int AS n FROM core.person_open_keys WHERE person_id = $1', [a!.personId]);
    expect(reopened.rows[0].n).toBe(expected.length);
  });

  it('a person with a valid ID number has no open keys; one without has', async () => {
    const [withId] = await link([mention({ name: '林静', idNumber: generateIdNumber('510105', '1993-02-14', 66, 'F'), phone: '13600002222' })]);
    const [without] = await link([mention({ name: '林动', birthDate: '1994-03-15', phone: '13600003333' })]);
    const n = async (id: string) => (await db.pool.query('SELECT count(*)::int AS n FROM core.person_open_keys WHERE person_id = $1', [id])).rows[0].n;
    expect(await n(withId!.personId)).toBe(0);
    expect(await n(without!.personId)).toBeGreaterThan(0);
  });

  it('reads candidates among persons without a number by probes or by one hashed pass, with no key list the planner estimates', async () => {
    const [orphan] = await link([mention({ name: '蒋文', birthDate: '1986-04-21', phone: '13600004444' })]);
    const [numbered] = await link([mention({ name: '蒋武', idNumber: generateIdNumber('510104', '1986-04-22', 12, 'M'), phone: '13600005555' })]);
    const orphanKeys = (await db.pool.query<{ key: string }>('SELECT key FROM core.person_open_keys WHERE person_id = $1', [orphan!.personId])).rows.map((r) => r.key);
    const numberedKeys = await keysOf(numbered!.personId);
    expect(orphanKeys.length).toBeGreaterThan(0);
    // A few keys: the table (at least a page) has more rows to read than there are keys, so the index is probed; two
    // thousand: one pass over the table, each row looked up in a hash of the list.
    const many = [...orphanKeys, ...Array.from({ length: 2000 }, (_, i) => `ph:1390000${String(i).padStart(4, '0')}`)];
    for (const [keys, pass] of [[orphanKeys, 'Index Only Scan using person_open_keys_pkey'], [many, 'hashed SubPlan']] as const) {
      const read = candidateRead([], keys);
      const { plan, persons } = await withTransaction(db.pool, async (c) => {
        await c.query(INDEX_PROBES_ON);
        const explained = (await c.query(`EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) ${read.text}`, read.values)).rows.map((r) => r['QUERY PLAN']).join('\n');
        return { plan: explained, persons: new Set((await c.query<{ person_id: string }>(read.text, read.values)).rows.map((r) => r.person_id)) };
      });
      // Persons holding a number are not among the candidates of the orphan keys (they look among persons without one).
      expect([...persons]).toEqual([orphan!.personId]);
      expect(plan).toContain(pass);
      expect(plan).not.toMatch(/ph:1390000|sb:|nb:/);
    }
    // Keys every person is looked up by (mentions without a number): a probe of the keys' hash index per key.
    const read = candidateRead(numberedKeys, []);
    const found = await withTransaction(db.pool, async (c) => {
      await c.query(INDEX_PROBES_ON);
      return new Set((await c.query<{ person_id: string }>(read.text, read.values)).rows.map((r) => r.person_id));
    });
    expect(found.has(numbered!.personId)).toBe(true);
  });

  it('reports the person a record already has when a writer outside linking stored its link first', async () => {
    const [holder] = await link([mention({ name: '宋佳', idNumber: generateIdNumber('510106', '1980-08-08', 14, 'F') })]);
    const contested = mention({ name: '宋佳佳', birthDate: '2001-01-01' });
    // Another session writes the link without the linking lock and holds its transaction open ...
    const other = await db.pool.connect();
    try {
      await other.query('BEGIN');
      await other.query(
        `INSERT INTO core.person_records (department, source_table, record_id, mention_key, person_id, record_key, method)
         VALUES ($1, $2, $3, '', $4, $5, 'manual')`,
        [contested.department, contested.sourceTable, contested.recordId, holder!.personId, contested.recordKey]);
      // ... linking cannot see it yet, waits on the unique index, and then must not fail the batch.
      const linking = link([contested]);
      await new Promise((resolve) => setTimeout(resolve, 300));
      await other.query('COMMIT');
      const [l] = await linking;
      expect(l!.personId).toBe(holder!.personId);
      expect(l!.created).toBe(false);
    } finally {
      other.release();
    }
    const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM core.person_records WHERE record_id = $1', [contested.recordId]);
    expect(rows[0].n).toBe(1);
  });

  it('joins the person a writer outside linking created with the ID number meanwhile (COPY of new persons falls back)', async () => {
    const idNumber = generateIdNumber('510108', '1966-06-06', 31, 'M');
    // Linking does not see the uncommitted person, decides on a new one, and its COPY waits on the unique index.
    const { outsider, linked: [a, b] } = await withOutsiderPerson(db.pool, idNumber, '罗军',
      () => link([mention({ name: '罗军', idNumber }), mention({ name: '罗新', birthDate: '1990-01-02', phone: '13900007777' })]));
    expect(a!.personId).toBe(outsider);
    expect(a!.method).toBe('id_number');
    expect(a!.created).toBe(false);
    // The other new person of the batch was still made, with its keys.
    expect(b!.created).toBe(true);
    expect((await keysOf(b!.personId)).length).toBeGreaterThan(0);
    const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM core.persons WHERE id_number = $1', [idNumber]);
    expect(rows[0].n).toBe(1);
  });

  it('adds the keys a known person gains from a new record, without duplicating those it has', async () => {
    const idNumber = generateIdNumber('510104', '1958-05-05', 22, 'F');
    const [a] = await link([mention({ name: '何芳', idNumber })]);
    const before = await keysOf(a!.personId);
    const m = mention({ name: '何芳', idNumber, phone: '13811112222', sourceTable: 'police.household_registrations', department: 'POLICE' });
    const [b] = await link([m, mention({ name: '何芳', idNumber, phone: '13811112222' })]);
    expect(b!.personId).toBe(a!.personId);
    const after = await keysOf(a!.personId);
    expect(after).toEqual([...new Set([...before, ...storedKeys(personFeatures(m, null))])].sort());
  });

  describe('keys written beside the batch (besidePool)', () => {
    const linkAside = (ms: PersonMention[]) => withTransaction(db.pool, (c) => linkPersons(c, ms, { besidePool: db.pool }));

    it('stores the same keys on a connection of their own, and the next batch finds the person by them', async () => {
      const m = mention({ name: '梁静', birthDate: '1985-04-04', sex: 'F', phone: '13700004444', idNumber: generateIdNumber('510104', '1985-04-04', 41, 'F') });
      const [a] = await linkAside([m]);
      expect(await keysOf(a!.personId)).toEqual(storedKeys(personFeatures(m, null)).sort());
      // No number, the same name, birth date and phone: found through the keys written beside.
      const [b] = await linkAside([mention({ name: '梁静', birthDate: '1985-04-04', phone: '13700004444', sourceTable: 'petition.petitions', department: 'PETITION' })]);
      expect(b!.personId).toBe(a!.personId);
      expect(b!.method).toBe('scored');
    });

    it('sends a known person\'s keys once: pairs committed beside are not staged again, until the key tables are rebuilt', async () => {
      const idNumber = generateIdNumber('510104', '1962-06-16', 31, 'M');
      const visit = (phone: string) => mention({ name: '罗成', idNumber, phone, sourceTable: 'civil.care_services' });
      const [a] = await linkAside([visit('13711110000')]);
      const skipped = () => personLinkingStats.knownKeyPairsSkipped;
      // Known now: its keys are staged and merged beside (none missing), and learnt.
      const s0 = skipped();
      await linkAside([visit('13711110000')]);
      expect(skipped()).toBe(s0);
      // Again: not staged (each of its keys skipped), and the person is the same with the same keys.
      const keys = await keysOf(a!.personId);
      const [c] = await linkAside([visit('13711110000')]);
      expect(c!.personId).toBe(a!.personId);
      expect(skipped() - s0).toBe(keys.length);
      // A new phone: the new pair is sent, the others are not; the table has it afterwards.
      const s1 = skipped();
      await linkAside([visit('13722220000')]);
      expect(skipped() - s1).toBe(keys.length - 1);
      const withPhone = await keysOf(a!.personId);
      expect(withPhone).toEqual([...new Set([...keys, ...storedKeys(personFeatures(visit('13722220000'), null))])].sort());
      // The key tables lost (a crash) and rebuilt under a new sentinel: nothing learnt before is trusted; the rebuilt
      // table holds every pair of the person's records, and the batch after the rebuild stages its pairs again.
      await db.pool.query('TRUNCATE core.person_keys, core.person_open_keys');
      const s2 = skipped();
      await linkAside([visit('13722220000')]);
      await linkAside([visit('13722220000')]);
      expect(skipped()).toBe(s2);
      expect(await keysOf(a!.personId)).toEqual(withPhone);
    });

    it('writes the keys in the batch itself when the connection beside waits on a lock (no wait the database cannot see)', async () => {
      const idNumber = generateIdNumber('510104', '1979-09-09', 57, 'M');
      const [a] = await linkAside([mention({ name: '钱进', idNumber })]);
      const extra = mention({ name: '钱进', idNumber, phone: '13900009999', sourceTable: 'police.household_registrations', department: 'POLICE' });
      const phoneKey = storedKeys(personFeatures(extra, null)).find((k) => k.startsWith('ph:'))!;
      // Another transaction holds a lock on the key table that writers wait for (as a maintenance statement
      // would), for longer than the writer beside may wait (lock_timeout) ...
      const other = await db.pool.connect();
      try {
        await other.query('BEGIN');
        await other.query('LOCK TABLE core.person_keys IN SHARE MODE');
        // (A connection beside is free at once: idle in the pool.)
        await db.warm(3);
        const started = Date.now();
        const linking = linkAside([extra]);
        // ... so the batch writes its keys itself and waits on that transaction, which the database can see: the
        // backend holding the linking lock comes to wait on a lock (not the writer beside), once the writer beside
        // has given up (lock_timeout, 2 s). Polled: on a loaded machine the hand-over can take longer than 2.6 s.
        const lockHolderWaits = async () => (await db.pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity a
            WHERE a.wait_event_type = 'Lock' AND a.datname = current_database()
              AND EXISTS (SELECT 1 FROM pg_locks l WHERE l.pid = a.pid AND l.locktype = 'advisory' AND l.granted)`)).rows[0]!.n === 1;
        await waitFor(lockHolderWaits, 'the batch holding the linking lock to wait on the key table', 30_000);
        expect(Date.now() - started).toBeGreaterThanOrEqual(1_900);
        await other.query('ROLLBACK');
        const [b] = await linking;
        expect(b!.personId).toBe(a!.personId);
      } finally {
        other.release();
      }
      expect(await keysOf(a!.personId)).toContain(phoneKey);
    });

    it('keeps the batch when a writer outside linking made its new person meanwhile (keys beside, writes redone)', async () => {
      const idNumber = generateIdNumber('510108', '1967-07-07', 35, 'F');
      const { outsider, linked: [a, b] } = await withOutsiderPerson(db.pool, idNumber, '罗兰',
        () => linkAside([mention({ name: '罗兰', idNumber }), mention({ name: '罗芸', birthDate: '1991-02-03', phone: '13900008888' })]));
      expect(a!.personId).toBe(outsider);
      expect(b!.created).toBe(true);
      expect((await keysOf(b!.personId)).length).toBeGreaterThan(0);
    });
  });

  it('keeps each (key, person) pair once when a merge brings keys the kept person has (the table has no unique index)', async () => {
    // Two persons without a number whose records share name and birth date (so their sb: and nb: keys) but not the
    // phone: kept apart by linking (the phones conflict), merged by hand.
    const [a] = await link([mention({ name: '邓丽华', birthDate: '1966-06-16', phone: '13500006666' })]);
    const [b] = await link([mention({ name: '邓丽华', birthDate: '1966-06-16', phone: '13500007777', sourceTable: 'petition.petitions', department: 'PETITION' })]);
    expect(b!.personId).not.toBe(a!.personId);
    const before = await keysOf(a!.personId);
    await withTransaction(db.pool, (c) => absorbPerson(c, a!.personId, b!.personId, 'test', { action: 'merge' }));
    const after = await keysOf(a!.personId);
    // The other phone is new to the kept person; the name and birth-date keys it had are not written again.
    expect(after.filter((k) => k.startsWith('ph:'))).toEqual(['ph:13500006666', 'ph:13500007777']);
    expect(after).toEqual([...new Set(after)]);
    expect(after.length).toBe(before.length + 1);
    const open = (await db.pool.query<{ key: string }>('SELECT key FROM core.person_open_keys WHERE person_id = $1', [a!.personId])).rows.map((r) => r.key);
    expect(open.sort()).toEqual(after);
  });

  it('refuses record keys with the separator control characters, saying which mention', async () => {
    await expect(link([mention({ name: '王五' }), mention({ name: '王六', mentionKey: 'party\u001f1' })]))
      .rejects.toThrow(/person mention 1: .*U\+001E or U\+001F/);
  });
});
