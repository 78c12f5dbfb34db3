import { randomUUID } from 'node:crypto';
import type { PoolClient } from '../../platform/db';
import { createTestDatabase, type TestDatabase } from '../../test/support/db';

/**
 * Migration 0340 replaced the row-by-row foreign keys of core.persons (residence place, grid) and core.places
 * (grid, register building) by statement-level checks, as 0210 did for core.events. The guarantees stay: a person
 * or place cannot name a place, grid or building that does not exist, and those cannot be deleted (or their key
 * changed) while a person or place names them — SQLSTATE 23503 with the old constraint's name. A hub role without
 * UPDATE on the referenced tables can still write persons (the check runs as the owner, as the RI check did).
 */
let db: TestDatabase;
let placeId: string;
let buildingId: string;

beforeAll(async () => {
  db = await createTestDatabase('linkrefs');
  await db.pool.query(`INSERT INTO core.grids (code, name, level) VALUES ('G0340', '测试网格', 'grid'), ('G0340B', '另一网格', 'grid')`);
  buildingId = (await db.pool.query<{ id: string }>(
    `INSERT INTO core.buildings (source_id, address, building_key, district_code, grid_code)
     VALUES ('b-0340', '四川省成都市武侯区浆洗街1号', 'bk-0340', '510107', 'G0340B') RETURNING id`)).rows[0]!.id;
  placeId = (await db.pool.query<{ id: string }>(
    `INSERT INTO core.places (address, norm_key, grid_code, building_id) VALUES ('四川省成都市武侯区浆洗街1号', 'test-0340', 'G0340', $1) RETURNING id`,
    [buildingId])).rows[0]!.id;
});

afterAll(async () => {
  await db?.drop();
});

const violation = (constraint: string) => expect.objectContaining({ code: '23503', constraint });
const insertPerson = (place: string | null, grid: string | null) =>
  db.pool.query(`INSERT INTO core.persons (name, residence_place_id, grid_code) VALUES ('张伟', $1, $2) RETURNING id`, [place, grid]);
const insertPlace = (grid: string | null, building: string | null) =>
  db.pool.query(`INSERT INTO core.places (address, norm_key, grid_code, building_id) VALUES ('某地', $1, $2, $3)`, [`k-${randomUUID()}`, grid, building]);

it('accepts persons and places whose references exist, and null references', async () => {
  await expect(insertPerson(placeId, 'G0340')).resolves.toMatchObject({ rowCount: 1 });
  await expect(insertPerson(null, null)).resolves.toMatchObject({ rowCount: 1 });
  await expect(insertPlace('G0340', buildingId)).resolves.toMatchObject({ rowCount: 1 });
  await expect(insertPlace(null, null)).resolves.toMatchObject({ rowCount: 1 });
});

it('refuses a person or place naming a place, grid or building that does not exist (insert, update, one bad row among many)', async () => {
  await expect(insertPerson(randomUUID(), null)).rejects.toEqual(violation('persons_residence_place_id_fkey'));
  await expect(insertPerson(placeId, 'NOPE')).rejects.toEqual(violation('persons_grid_code_fkey'));
  await expect(insertPlace('NOPE', null)).rejects.toEqual(violation('places_grid_code_fkey'));
  await expect(insertPlace('G0340', randomUUID())).rejects.toEqual(violation('places_building_id_fkey'));
  await expect(db.pool.query(
    `INSERT INTO core.persons (name, residence_place_id, grid_code) SELECT '李' || i, $1, CASE WHEN i = 500 THEN 'NOPE' ELSE 'G0340' END FROM generate_series(1, 1000) i`,
    [placeId])).rejects.toEqual(violation('persons_grid_code_fkey'));
  await expect(db.pool.query(`UPDATE core.persons SET residence_place_id = $1 WHERE residence_place_id IS NULL`, [randomUUID()]))
    .rejects.toEqual(violation('persons_residence_place_id_fkey'));
  await expect(db.pool.query(`UPDATE core.places SET grid_code = 'NOPE' WHERE id = $1`, [placeId])).rejects.toEqual(violation('places_grid_code_fkey'));
  const { rows: [n] } = await db.pool.query<{ persons: number; places: number }>(
    `SELECT (SELECT count(*)::int FROM core.persons WHERE grid_code = 'NOPE' OR name LIKE '李%') AS persons, (SELECT count(*)::int FROM core.places WHERE grid_code = 'NOPE') AS places`);
  expect(n).toEqual({ persons: 0, places: 0 });
});

it('refuses deleting or re-keying a place, grid or building that is referenced, and allows it once nothing is', async () => {
  await expect(db.pool.query(`DELETE FROM core.places WHERE id = $1`, [placeId])).rejects.toEqual(violation('persons_residence_place_id_fkey'));
  await expect(db.pool.query(`UPDATE core.places SET id = $2 WHERE id = $1`, [placeId, randomUUID()])).rejects.toEqual(violation('persons_residence_place_id_fkey'));
  await expect(db.pool.query(`DELETE FROM core.grids WHERE code = 'G0340'`)).rejects.toEqual(violation('persons_grid_code_fkey'));
  await expect(db.pool.query(`UPDATE core.grids SET code = 'G0340X' WHERE code = 'G0340'`)).rejects.toEqual(violation('persons_grid_code_fkey'));
  await expect(db.pool.query(`DELETE FROM core.buildings WHERE id = $1`, [buildingId])).rejects.toEqual(violation('places_building_id_fkey'));
  await db.pool.query(`UPDATE core.places SET address = address || '（更正）' WHERE id = $1`, [placeId]); // not a key: allowed
  await db.pool.query(`UPDATE core.persons SET residence_place_id = NULL, grid_code = NULL`);
  await expect(db.pool.query(`DELETE FROM core.grids WHERE code = 'G0340'`)).rejects.toEqual(violation('places_grid_code_fkey'));
  await db.pool.query(`UPDATE core.places SET grid_code = 'G0340B', building_id = NULL`);
  await db.pool.query(`DELETE FROM core.buildings WHERE id = $1`, [buildingId]);
  await db.pool.query(`DELETE FROM core.grids WHERE code = 'G0340'`);
  await db.pool.query(`DELETE FROM core.places WHERE id = $1`, [placeId]);
});

it('a role without UPDATE on the referenced tables writes persons with references (the check runs as the owner)', async () => {
  const role = `tl_refs_${randomUUID().slice(0, 8)}`;
  await db.pool.query(`CREATE ROLE ${role}`);
  try {
    await db.pool.query(`GRANT USAGE ON SCHEMA core TO ${role}; GRANT SELECT, INSERT ON core.persons TO ${role}; GRANT SELECT ON core.places, core.grids TO ${role}`);
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SET LOCAL ROLE ${role}`);
      const place = (await client.query<{ id: string }>(`SELECT id FROM core.places LIMIT 1`)).rows[0]!.id;
      await expect(client.query(`INSERT INTO core.persons (name, residence_place_id, grid_code) VALUES ('王芳', $1, 'G0340B')`, [place]))
        .resolves.toMatchObject({ rowCount: 1 });
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
  } finally {
    await db.pool.query(`DROP OWNED BY ${role}; DROP ROLE ${role}`);
  }
});

/**
 * The guarantee under concurrency: a removal racing a write that names the removed row. The check locks the rows it
 * finds FOR KEY SHARE, so a delete waits for the writer and then sees its reference, and a writer's check waits for
 * the delete and then misses the row; a REPEATABLE READ writer whose snapshot predates the delete fails on the lock.
 * Two real connections each way (docs/linking.md round 23 tried keeping this without the locks).
 */
describe('a removal racing a write that references it', () => {
  const newPlace = async (tag: string) => (await db.pool.query<{ id: string }>(
    `INSERT INTO core.places (address, norm_key, grid_code) VALUES ('某地' || $1, $1, 'G0340B') RETURNING id`, [`race-${tag}-${randomUUID()}`])).rows[0]!.id;
  const settledWithin = async (p: Promise<unknown>, ms: number) =>
    Promise.race([p.then(() => true, () => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms))]);
  /**
   * `first` in a transaction left open on one connection, then `second` on another: it must still be waiting 300 ms
   * later, and settle once the first commits. Resolves to the error `second` ended with (null when it succeeded).
   */
  const secondWaitsForFirst = async (first: (c: PoolClient) => Promise<unknown>, second: (c: PoolClient) => Promise<unknown>) => {
    const [a, b] = [await db.pool.connect(), await db.pool.connect()];
    try {
      await a.query('BEGIN');
      await first(a);
      const later = second(b).then(() => null, (err: unknown) => err);
      expect(await settledWithin(later, 300)).toBe(false);
      await a.query('COMMIT');
      return await later;
    } finally {
      a.release();
      b.release();
    }
  };

  it('a delete waits for an uncommitted person naming the place, then refuses', async () => {
    const place = await newPlace('a');
    await expect(secondWaitsForFirst(
      (writer) => writer.query(`INSERT INTO core.persons (name, residence_place_id, grid_code) VALUES ('赵敏', $1, 'G0340B')`, [place]),
      (remover) => remover.query('DELETE FROM core.places WHERE id = $1', [place]),
    )).resolves.toEqual(violation('persons_residence_place_id_fkey'));
  });

  it('a person naming a place being deleted waits for the delete, then is refused', async () => {
    const place = await newPlace('b');
    await expect(secondWaitsForFirst(
      (remover) => remover.query('DELETE FROM core.places WHERE id = $1', [place]),
      (writer) => writer.query(`INSERT INTO core.persons (name, residence_place_id) VALUES ('钱敏', $1)`, [place]),
    )).resolves.toEqual(violation('persons_residence_place_id_fkey'));
    const { rows } = await db.pool.query(`SELECT 1 FROM core.persons WHERE name = '钱敏'`);
    expect(rows).toHaveLength(0);
  });

  it('a REPEATABLE READ writer whose snapshot predates the delete is refused too', async () => {
    const place = await newPlace('c');
    const writer = await db.pool.connect();
    try {
      await writer.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
      await writer.query('SELECT count(*) FROM core.places'); // the snapshot is taken here
      await db.pool.query('DELETE FROM core.places WHERE id = $1', [place]);
      await expect(writer.query(`INSERT INTO core.persons (name, residence_place_id) VALUES ('孙敏', $1)`, [place]))
        .rejects.toMatchObject({ code: expect.stringMatching(/^(40001|23503)$/) });
      await writer.query('ROLLBACK');
    } finally {
      writer.release();
    }
  });

  it('a grid delete waits for an uncommitted place naming it, then refuses', async () => {
    await db.pool.query(`INSERT INTO core.grids (code, name, level) VALUES ('G0373', '竞态网格', 'grid')`);
    await expect(secondWaitsForFirst(
      (writer) => writer.query(`INSERT INTO core.places (address, norm_key, grid_code) VALUES ('某地', $1, 'G0373')`, [`race-grid-${randomUUID()}`]),
      (remover) => remover.query(`DELETE FROM core.grids WHERE code = 'G0373'`),
    )).resolves.toEqual(violation('places_grid_code_fkey'));
  });
});
