import { createTestDatabase, type TestDatabase } from '../../../test/support/db';

/**
 * "This area and everything below it" is a grid-code prefix (`LIKE '510104%'`). The indexes by grid must serve
 * that prefix, not only one exact grid, or a district's events page and statistics read the whole table
 * (migration 0102). With sequential scans disabled, a plan that still scans the table means no index can.
 */
let db: TestDatabase;

beforeAll(async () => { db = await createTestDatabase('gridprefix'); });
afterAll(async () => { await db?.drop(); });

async function plan(sql: string, values?: unknown[]): Promise<string> {
  const client = await db.pool.connect();
  try {
    await client.query('SET enable_seqscan = off');
    const { rows } = await client.query(`EXPLAIN ${sql}`, values);
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

it("linking's lists reach the planner as one value, not as thousands of constants, and still probe the indexes", async () => {
  // As linking sends them (linking/person-linking.ts, INDEX_PROBES_ON): a parameter wrapped in a one-time subquery.
  const numbers = Array.from({ length: 2000 }, (_, i) => `5101041990010${String(i).padStart(5, '0')}`).join('\u001f');
  const byNumber = await plan(`SELECT id FROM core.persons WHERE id_number = ANY((SELECT string_to_array($1, chr(31)))::text[])`, [numbers]);
  expect(byNumber).toContain('persons_id_number_key');
  expect(byNumber).toMatch(/InitPlan/);
  expect(byNumber).not.toContain('5101041990010');
  const byName = await plan(`SELECT p.name, count(*) FROM core.persons p WHERE p.name = ANY((SELECT $1::text[])::text[])
    AND p.id_number IS NOT NULL AND p.merged_into IS NULL GROUP BY p.name`, [['张伟', '李娜']]);
  expect(byName).toContain('persons_name');
  expect(byName).not.toContain('张伟');
  const openKeys = await plan(`SELECT person_id FROM core.person_open_keys k WHERE k.key = ANY((SELECT string_to_array($1, chr(31)))::text[])`,
    ['sb:zhang|1990-01-01\u001fph:13800000000']);
  expect(openKeys).toContain('person_open_keys_pkey');
  expect(openKeys).not.toContain('zhang');
});

it('an ID number stays unique, under the name a violation reports', async () => {
  const idNumber = '51010419900101123X';
  await db.pool.query(`INSERT INTO core.persons (name, id_number) VALUES ('甲', $1)`, [idNumber]);
  await expect(db.pool.query(`INSERT INTO core.persons (name, id_number) VALUES ('乙', $1)`, [idNumber]))
    .rejects.toMatchObject({ code: '23505', constraint: 'persons_id_number_key' });
  const r = await db.pool.query(`INSERT INTO core.persons (name, id_number) VALUES ('乙', $1) ON CONFLICT (id_number) DO NOTHING`, [idNumber]);
  expect(r.rowCount).toBe(0);
});
