import { createTestDatabase, type TestDatabase } from '../../test/support/db';
import { withTransaction } from '../../platform/db';
import { linkBatch, linkPersons, linkPlaces } from '../index';
import { takeLinkingLock } from '../linking-lock';
import { keyList } from '../key-list';
import { linkPlaces as linkPlacesUnlocked } from '../place-linking';
import { GRID_B, loadTestGrids } from './fixtures';

/**
 * New places are COPYed inside a savepoint (linking/place-linking.ts, copyNewPlaces); when another transaction
 * inserted one of the keys after this batch read them, the COPY fails and the batch falls back to the upsert,
 * which meets that transaction's row. Two real connections: the second batch's COPY waits on the first's
 * uncommitted row, then fails when it commits. (Batches linked through linking/index.ts hold the linking lock, so
 * they never meet like that; place-linking.ts's own linkPlaces, used without it, can.)
 */
describe('place linking: new places by COPY', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('placecopy');
    await loadTestGrids(db.pool);
  });
  afterAll(async () => { await db.drop(); });

  it('writes a batch of new places with COPY, each as the upsert would have', async () => {
    const c = await db.pool.connect();
    try {
      await c.query('BEGIN');
      const links = await linkPlaces(c, [
        { ref: 'a', address: '锦江区河滨社区永丰街70号1栋1单元101室', lon: 104.015, lat: 30.605 },
        { ref: 'b', address: '锦江区永丰街70号1幢1单元102' },
        { ref: 'u', address: '火车站对面\t小卖部' },
      ]);
      await c.query('COMMIT');
      expect(links.map((l) => l.gridCode)).toEqual([GRID_B, GRID_B, null]);
      const { rows } = await db.pool.query(
        `SELECT id, address, room, grid_code, lon, lat, parse_status, parse_error, building_key, division_code FROM core.places
          WHERE id = ANY($1::uuid[]) ORDER BY address`, [links.map((l) => l.placeId)]);
      expect(rows).toEqual([
        { id: links[2]!.placeId, address: '火车站对面\t小卖部', room: null, grid_code: null, lon: null, lat: null, parse_status: 'unparsed',
          parse_error: 'no division, road or house number recognised', building_key: null, division_code: null },
        { id: links[0]!.placeId, address: '锦江区东湖街道河滨社区永丰街70号1栋1单元101室', room: '101', grid_code: GRID_B, lon: 104.015, lat: 30.605,
          parse_status: 'parsed', parse_error: null, building_key: '510104|永丰街|70|1', division_code: '510104018005' },
        { id: links[1]!.placeId, address: '锦江区永丰街70号1栋1单元102室', room: '102', grid_code: GRID_B, lon: null, lat: null,
          parse_status: 'parsed', parse_error: null, building_key: '510104|永丰街|70|1', division_code: '510104018005' },
      ]);
    } finally {
      c.release();
    }
  });

  it('falls back to the upsert when another transaction inserted the same address first, and meets its row', async () => {
    const first = await db.pool.connect();
    const second = await db.pool.connect();
    try {
      const address = '锦江区河滨社区永丰街80号2栋1单元301室';
      await first.query('BEGIN');
      const [mine] = await linkPlacesUnlocked(first, [{ ref: 'x', address }]);
      // The second batch reads before the first commits: the address is new to it, so its COPY inserts it too and
      // waits on the first transaction's uncommitted row; its other address is new to both.
      const pid = (await second.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      await second.query('BEGIN');
      const pending = linkPlacesUnlocked(second, [{ ref: 'y', address: `成都市${address}` }, { ref: 'z', address: '锦江区永丰街80号2栋1单元302室' }]);
      for (let i = 0; i < 200; i++) {
        const { rows } = await db.pool.query(`SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1`, [pid]);
        if (rows[0]?.wait_event_type === 'Lock') break;
        await new Promise((r) => setTimeout(r, 25));
      }
      const { rows: waiting } = await db.pool.query(`SELECT wait_event_type, left(query, 4) AS q FROM pg_stat_activity WHERE pid = $1`, [pid]);
      expect(waiting[0]).toEqual({ wait_event_type: 'Lock', q: 'COPY' });
      await first.query('COMMIT');
      const [theirs, other] = await pending;
      await second.query('COMMIT');
      expect(theirs!.placeId).toBe(mine!.placeId);
      expect(other!.placeId).not.toBe(mine!.placeId);
      const { rows } = await db.pool.query(`SELECT norm_key FROM core.places WHERE road = '永丰街' AND number = '80' ORDER BY room`);
      expect(rows.map((r) => r.norm_key)).toEqual(['U|510104|永丰街|80|2|1|301', 'U|510104|永丰街|80|2|1|302']);
    } finally {
      await first.query('ROLLBACK').catch(() => undefined);
      await second.query('ROLLBACK').catch(() => undefined);
      first.release();
      second.release();
    }
  });

  it('links places under the linking lock: a batch waiting to link its persons holds no new place the holder needs', async () => {
    // The sync merge step links a batch's places, then its persons. Were places linked before the lock, a second
    // batch could write a new place and then wait for the lock, while the holder, linking the same address, waited
    // on that uncommitted place: a deadlock.
    const holder = await db.pool.connect();
    const waiter = await db.pool.connect();
    const address = '锦江区河滨社区永丰街88号1栋1单元101室';
    try {
      await holder.query('BEGIN');
      await takeLinkingLock(holder);
      await waiter.query('BEGIN');
      const second = (async () => {
        const [p] = await linkPlaces(waiter, [{ ref: 'w', address }]);
        await linkPersons(waiter, [{ ref: 'm', department: 'POLICE', sourceTable: 't_hjxx', recordId: '00000000-0000-4000-8000-00000000c0de', recordKey: 'c0de', connectorId: '', name: '周密', birthDate: '1970-07-07', address }]);
        await waiter.query('COMMIT');
        return p!;
      })();
      await new Promise((r) => setTimeout(r, 300));
      // The holder links the same address: it must not wait on the second batch.
      const [mine] = await linkPlaces(holder, [{ ref: 'h', address }]);
      await holder.query('COMMIT');
      const theirs = await second;
      expect(theirs.placeId).toBe(mine!.placeId);
    } finally {
      await holder.query('ROLLBACK').catch(() => undefined);
      await waiter.query('ROLLBACK').catch(() => undefined);
      holder.release();
      waiter.release();
    }
  });

  it('links the places of concurrent batches beside them (no linking lock) without a deadlock: one place per address', async () => {
    // Three batches at once, each with the same six new addresses in its own order and a person at each, places
    // linked beside the batch (the sync merge step's way): their place transactions insert in key order, never wait
    // for the linking lock, and commit before the persons are written. The test pool (five connections) cannot give
    // every batch a connection beside at once: a batch without one links its places in the batch, under the lock,
    // so both ways meet here.
    const addresses = [1, 2, 3, 4, 5, 6].map((n) => `锦江区河滨社区永丰街9${n}号2栋1单元10${n}室`);
    const batch = (k: number) => {
      const order = k === 0 ? addresses : k === 1 ? [...addresses].reverse() : [...addresses.slice(3), ...addresses.slice(0, 3)];
      const places = order.map((address, i) => ({ ref: `${k}:${i}`, address }));
      const persons = order.map((address, i) => ({
        ref: `${k}:${i}`, department: 'POLICE' as const, sourceTable: 't_hjxx', recordId: `00000000-0000-4000-8000-0000000c${k}${i}00`,
        recordKey: `${k}${i}`, connectorId: '', name: `孔${'一二三四五六'[i]}${'甲乙丙'[k]}`, birthDate: `19${60 + i}-0${k + 1}-1${i}`, address,
      }));
      return withTransaction(db.pool, (c) => linkBatch(c, places, persons, { besidePool: db.pool }));
    };
    const results = await Promise.all([batch(0), batch(1), batch(2)]);
    // Every batch got the same place for each address, and each address is one row.
    const ids = (r: { places: Array<{ ref: string; placeId: string | null }> }) => new Set(r.places.map((p) => p.placeId));
    expect(ids(results[1]!)).toEqual(ids(results[0]!));
    expect(ids(results[2]!)).toEqual(ids(results[0]!));
    const { rows } = await db.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM core.places WHERE id = ANY($1::uuid[])', [[...ids(results[0]!)]]);
    expect(rows[0]!.n).toBe(6);
    // The persons live there.
    const homes = await db.pool.query<{ residence_place_id: string }>(
      'SELECT residence_place_id FROM core.persons WHERE id = ANY($1::uuid[])', [results.flatMap((r) => r.persons.map((p) => p.personId))]);
    expect(homes.rows).toHaveLength(18);
    expect(new Set(homes.rows.map((h) => h.residence_place_id))).toEqual(ids(results[0]!));
  });

  it('links outside a transaction block too (no savepoint there: the upsert writes)', async () => {
    const c = await db.pool.connect();
    try {
      const [a] = await linkPlaces(c, [{ ref: 'a', address: '锦江区永丰街90号1栋1单元101室' }]);
      const [b] = await linkPlaces(c, [{ ref: 'b', address: '锦江区永丰街90号1幢1单元101' }]);
      expect(a!.placeId).not.toBeNull();
      expect(b!.placeId).toBe(a!.placeId);
    } finally {
      c.release();
    }
  });

  it('sends keys as one joined text, or as an array when a key could not be told apart in it', () => {
    expect(keyList(['U|1', 'U|2'])).toMatchObject({ value: 'U|1\u001fU|2' });
    expect(keyList(['U|1', 'U|2']).sql(1)).toBe('(SELECT string_to_array($1, (SELECT chr(31))))::text[]');
    expect(keyList([])).toMatchObject({ value: '' });
    expect(keyList(['raw|a\u001fb', 'U|2'])).toMatchObject({ value: ['raw|a\u001fb', 'U|2'] });
    expect(keyList(['']).sql(2)).toBe('(SELECT $2::text[])::text[]');
  });

  it('probes indexes with a key list the planner sees as one value, not as thousands of constants', async () => {
    const ARRAY_CONSTANT = /'\{[^}]*5101041990010|'\{[^}]*(张伟|zhang)/;
    // VERBOSE: the init plans' outputs too. The list's text shows there as a parameter's value; an array constant
    // (`'{…}'::text[]`) in a plan is a list the planner split or estimated itself.
    const plan = async (sql: string, values: unknown[]) => {
      const c = await db.pool.connect();
      try {
        await c.query('SET enable_seqscan = off');
        return (await c.query(`EXPLAIN (VERBOSE) ${sql}`, values)).rows.map((r) => r['QUERY PLAN']).join('\n');
      } finally {
        await c.query('RESET enable_seqscan');
        c.release();
      }
    };
    const numbers = keyList(Array.from({ length: 2000 }, (_, i) => `5101041990010${String(i).padStart(5, '0')}`));
    const byNumber = await plan(`SELECT id FROM core.persons WHERE id_number = ANY(${numbers.sql(1)})`, [numbers.value]);
    expect(byNumber).toContain('persons_id_number_key');
    expect(byNumber).toMatch(/InitPlan/);
    expect(byNumber).toContain('string_to_array(');
    expect(byNumber).not.toMatch(ARRAY_CONSTANT);
    // Written plainly, the list is a constant to the planner (what sql() avoids); so it is inside a one-time subquery
    // whose call the planner can evaluate itself (both arguments constants): it then splits the text while planning.
    expect(await plan(`SELECT id FROM core.persons WHERE id_number = ANY(string_to_array($1, chr(31)))`, [numbers.value])).toMatch(ARRAY_CONSTANT);
    expect(await plan(`SELECT id FROM core.persons WHERE id_number = ANY((SELECT string_to_array($1, chr(31)))::text[])`, [numbers.value]))
      .toMatch(ARRAY_CONSTANT);
    const names = keyList(['张伟', '李娜']);
    const byName = await plan(`SELECT p.name, count(*) FROM core.persons p WHERE p.name = ANY(${names.sql(1)})
      AND p.id_number IS NOT NULL AND p.merged_into IS NULL GROUP BY p.name`, [names.value]);
    expect(byName).toContain('persons_name');
    expect(byName).not.toMatch(ARRAY_CONSTANT);
    const keys = keyList(['sb:zhang|1990-01-01', 'ph:13800000000']);
    const openKeys = await plan(`SELECT person_id FROM core.person_open_keys k WHERE k.key = ANY(${keys.sql(1)})`, [keys.value]);
    expect(openKeys).toContain('person_open_keys_pkey');
    expect(openKeys).not.toMatch(ARRAY_CONSTANT);
    const houses = keyList(['U|510104|锦江区永丰街90号']);
    expect(await plan(`SELECT id FROM core.places WHERE house_key = ANY(${houses.sql(1)}) AND building_key IS NOT NULL`, [houses.value]))
      .toContain('places_house');
  });
});
