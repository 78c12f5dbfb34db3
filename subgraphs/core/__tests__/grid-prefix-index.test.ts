import { createTestDatabase, type TestDatabase } from '../../../test/support/db';

/**
 * "This area and everything below it" is a grid-code prefix (`LIKE '510104%'`). The indexes by grid must serve
 * that prefix, not only one exact grid, or a district's events page and statistics read the whole table
 * (migration 0102). With sequential scans disabled, a plan that still scans the table means no index can.
 */
let db: TestDatabase;

beforeAll(async () => { db = await createTestDatabase('gridprefix'); });
afterAll(async () => { await db?.drop(); });

async function plan(sql: string): Promise<string> {
  const client = await db.pool.connect();
  try {
    await client.query('SET enable_seqscan = off');
    const { rows } = await client.query(`EXPLAIN ${sql}`);
    return rows.map((r) => r['QUERY PLAN']).join('\n');
  } finally {
    await client.query('RESET enable_seqscan');
    client.release();
  }
}

it('a district prefix and an exact grid both use the events index by grid', async () => {
  expect(await plan(`SELECT count(*) FROM core.events WHERE grid_code LIKE '510104%'`)).toContain('events_grid_prefix_time');
  expect(await plan(`SELECT id FROM core.events WHERE grid_code = '510104018001001' ORDER BY occurred_at DESC LIMIT 20`)).toContain('events_grid_prefix_time');
});

it('places of an area are found by index too', async () => {
  expect(await plan(`SELECT id FROM core.places WHERE grid_code LIKE '510104018%'`)).toContain('places_grid_prefix');
});

it('persons of an area and persons by the start of their name are found by index (migration 0371)', async () => {
  expect(await plan(`SELECT id FROM core.persons WHERE grid_code LIKE '510104018%'`)).toContain('persons_grid_prefix');
  expect(await plan(`SELECT id FROM core.persons WHERE name LIKE '张%'`)).toContain('persons_name');
  // Linking's look-ups by equality use the same indexes.
  expect(await plan(`SELECT count(*) FROM core.persons WHERE name = ANY('{张伟,李娜}'::text[]) AND id_number IS NOT NULL`)).toContain('persons_name');
  expect(await plan(`SELECT id FROM core.persons WHERE id_number = ANY(string_to_array('510104199001011234', ','))`)).toContain('persons_id_number_key');
});

it('an ID number stays unique, under the name a violation reports', async () => {
  const idNumber = '51010419900101123X';
  await db.pool.query(`INSERT INTO core.persons (name, id_number) VALUES ('甲', $1)`, [idNumber]);
  await expect(db.pool.query(`INSERT INTO core.persons (name, id_number) VALUES ('乙', $1)`, [idNumber]))
    .rejects.toMatchObject({ code: '23505', constraint: 'persons_id_number_key' });
  const r = await db.pool.query(`INSERT INTO core.persons (name, id_number) VALUES ('乙', $1) ON CONFLICT (id_number) DO NOTHING`, [idNumber]);
  expect(r.rowCount).toBe(0);
});
