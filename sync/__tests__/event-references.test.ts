import { createTestDatabase, type TestDatabase } from '../../test/support/db';
import { uuidv7 } from '../../platform/uuidv7';

/**
 * Migration 0210 replaced core.events' row-by-row foreign keys (category, place, grid) by statement-level
 * checks. The guarantees stay: an event cannot name a category, place or grid that does not exist, and those
 * cannot be deleted (or their key changed) while an event names them — both with SQLSTATE 23503 and the old
 * constraint's name.
 */
let db: TestDatabase;
let category: string;
let placeId: string;

beforeAll(async () => {
  db = await createTestDatabase('syncevref');
  await db.pool.query(`INSERT INTO core.event_categories (code, name) VALUES ('990001', '测试类别')`);
  await db.pool.query(`INSERT INTO core.grids (code, name, level) VALUES ('G0210', '测试网格', 'grid')`);
  placeId = (await db.pool.query<{ id: string }>(
    `INSERT INTO core.places (address, norm_key, grid_code) VALUES ('四川省成都市武侯区浆洗街1号', 'test-0210', 'G0210') RETURNING id`)).rows[0]!.id;
  category = '990001';
});

afterAll(async () => {
  await db?.drop();
});

async function insertEvent(refs: { category?: string | null; place?: string | null; grid?: string | null }) {
  return db.pool.query(
    `INSERT INTO core.events (kind, category_code, title, occurred_at, status, department, source_table, source_id, place_id, grid_code)
     VALUES ('police_incident', $1, '测试', now(), 'reported', 'POLICE', 'police.incidents', $2, $3, $4) RETURNING id`,
    [refs.category ?? null, uuidv7(), refs.place ?? null, refs.grid ?? null]);
}

function violation(constraint: string) {
  return expect.objectContaining({ code: '23503', constraint });
}

it('accepts events whose references exist, and null references', async () => {
  await expect(insertEvent({ category, place: placeId, grid: 'G0210' })).resolves.toMatchObject({ rowCount: 1 });
  await expect(insertEvent({})).resolves.toMatchObject({ rowCount: 1 });
});

it('refuses an event naming a category, place or grid that does not exist (insert and update, one bad row among many)', async () => {
  await expect(insertEvent({ category: '999999' })).rejects.toEqual(violation('events_category_code_fkey'));
  await expect(insertEvent({ place: uuidv7() })).rejects.toEqual(violation('events_place_id_fkey'));
  await expect(insertEvent({ grid: 'NOPE' })).rejects.toEqual(violation('events_grid_code_fkey'));
  await expect(db.pool.query(`UPDATE core.events SET grid_code = CASE WHEN grid_code IS NULL THEN 'NOPE' ELSE grid_code END`))
    .rejects.toEqual(violation('events_grid_code_fkey'));
  const { rows } = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM core.events WHERE grid_code = 'NOPE' OR category_code = '999999'`);
  expect(rows[0]!.n).toBe(0);
});

it('refuses deleting or re-keying a category, place or grid an event names, and allows it once none does', async () => {
  await expect(db.pool.query(`DELETE FROM core.event_categories WHERE code = $1`, [category])).rejects.toEqual(violation('events_category_code_fkey'));
  await expect(db.pool.query(`UPDATE core.event_categories SET code = '990002' WHERE code = $1`, [category])).rejects.toEqual(violation('events_category_code_fkey'));
  await expect(db.pool.query(`DELETE FROM core.places WHERE id = $1`, [placeId])).rejects.toEqual(violation('events_place_id_fkey'));
  await db.pool.query(`UPDATE core.places SET address = address || '（更正）' WHERE id = $1`, [placeId]); // not the key: allowed
  await db.pool.query(`UPDATE core.events SET category_code = NULL, place_id = NULL, grid_code = NULL`);
  await db.pool.query(`DELETE FROM core.places WHERE id = $1`, [placeId]);
  await db.pool.query(`DELETE FROM core.event_categories WHERE code = $1`, [category]);
  await db.pool.query(`DELETE FROM core.grids WHERE code = 'G0210'`);
});

it('uuidv7: valid, time-ordered, unique ids', () => {
  const ids = Array.from({ length: 20000 }, () => uuidv7());
  for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  expect([...ids].sort()).toEqual(ids);
  expect(new Set(ids).size).toBe(ids.length);
  const ms = parseInt(ids[0]!.replace(/-/g, '').slice(0, 12), 16);
  expect(Math.abs(ms - Date.now())).toBeLessThan(60_000);
});
