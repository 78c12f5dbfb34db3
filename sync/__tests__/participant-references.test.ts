import { createTestDatabase, type TestDatabase } from '../../test/support/db';
import { uuidv7 } from '../../platform/uuidv7';

/**
 * Migration 0342 replaced the row-by-row foreign keys of core.event_participants (event, person) and
 * police.incident_parties (incident) by statement-level checks. The guarantees stay: a participant or party cannot
 * name an event, person or incident that does not exist (SQLSTATE 23503, the old constraint's name); deleting an
 * event or incident deletes its participants or parties; a person a participant names cannot be deleted, nor any of
 * their ids changed while named.
 */
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('partref');
});

afterAll(async () => {
  await db?.drop();
});

async function person(name: string): Promise<string> {
  return (await db.pool.query<{ id: string }>('INSERT INTO core.persons (name) VALUES ($1) RETURNING id', [name])).rows[0]!.id;
}

async function event(): Promise<string> {
  return (await db.pool.query<{ id: string }>(
    `INSERT INTO core.events (kind, title, occurred_at, status, department, source_table, source_id)
     VALUES ('police_incident', '测试', now(), 'reported', 'POLICE', 'police.incidents', $1) RETURNING id`, [uuidv7()])).rows[0]!.id;
}

async function incident(): Promise<string> {
  return (await db.pool.query<{ id: string }>(
    `INSERT INTO police.incidents (incident_no, _connector_id, _record_key, _row_hash) VALUES ('JJ0342', $1, $2, 'h') RETURNING id`,
    [uuidv7(), uuidv7()])).rows[0]!.id;
}

function violation(constraint: string) {
  return expect.objectContaining({ code: '23503', constraint });
}

async function count(sql: string, values: unknown[]): Promise<number> {
  return (await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`, values)).rows[0]!.n;
}

it('accepts participants and parties whose event, person and incident exist, many in one statement', async () => {
  const [e, i, a, b] = [await event(), await incident(), await person('张伟'), await person('李娜')];
  await db.pool.query(`INSERT INTO core.event_participants (event_id, person_id, role) VALUES ($1, $2, 'reporter'), ($1, $3, 'victim')`, [e, a, b]);
  await db.pool.query(`INSERT INTO police.incident_parties (incident_id, person_id, role) VALUES ($1, $2, 'reporter'), ($1, $3, 'victim')`, [i, a, b]);
  expect(await count('core.event_participants WHERE event_id = $1', [e])).toBe(2);
  expect(await count('police.incident_parties WHERE incident_id = $1', [i])).toBe(2);
});

it('refuses a participant or party naming an event, person or incident that does not exist, one bad row among good ones', async () => {
  const [e, i, a] = [await event(), await incident(), await person('王芳')];
  await expect(db.pool.query(`INSERT INTO core.event_participants (event_id, person_id, role) VALUES ($1, $2, 'party'), ($3, $2, 'party')`, [e, a, uuidv7()]))
    .rejects.toEqual(violation('event_participants_event_id_fkey'));
  await expect(db.pool.query(`INSERT INTO core.event_participants (event_id, person_id, role) VALUES ($1, $2, 'party'), ($1, $3, 'party')`, [e, a, uuidv7()]))
    .rejects.toEqual(violation('event_participants_person_id_fkey'));
  await expect(db.pool.query(`INSERT INTO police.incident_parties (incident_id, person_id, role) VALUES ($1, $2, 'party'), ($3, $2, 'party')`, [i, a, uuidv7()]))
    .rejects.toEqual(violation('incident_parties_incident_id_fkey'));
  await db.pool.query(`INSERT INTO core.event_participants (event_id, person_id, role) VALUES ($1, $2, 'party')`, [e, a]);
  await expect(db.pool.query(`UPDATE core.event_participants SET person_id = $2 WHERE event_id = $1`, [e, uuidv7()]))
    .rejects.toEqual(violation('event_participants_person_id_fkey'));
  expect(await count('core.event_participants WHERE event_id = $1', [e])).toBe(1);
});

it('deletes the participants of a deleted event and the parties of a deleted incident, and nothing else', async () => {
  const [e1, e2, i1, i2, a] = [await event(), await event(), await incident(), await incident(), await person('赵敏')];
  await db.pool.query(`INSERT INTO core.event_participants (event_id, person_id, role) VALUES ($1, $3, 'party'), ($2, $3, 'party')`, [e1, e2, a]);
  await db.pool.query(`INSERT INTO police.incident_parties (incident_id, person_id, role) VALUES ($1, $3, 'party'), ($2, $3, 'party')`, [i1, i2, a]);
  // As sync removes the events of records a source no longer has (sync/load/batch-writer.ts): a CTE around the delete.
  await db.pool.query(`WITH gone AS (DELETE FROM core.events WHERE id = $1 RETURNING id) SELECT count(*) FROM gone`, [e1]);
  await db.pool.query('DELETE FROM police.incidents WHERE id = $1', [i1]);
  expect(await count('core.event_participants WHERE person_id = $1', [a])).toBe(1);
  expect(await count('core.event_participants WHERE event_id = $1', [e2])).toBe(1);
  expect(await count('police.incident_parties WHERE person_id = $1', [a])).toBe(1);
  expect(await count('police.incident_parties WHERE incident_id = $1', [i2])).toBe(1);
});

it('refuses deleting a person a participant names, or changing a named id, and allows it once none does', async () => {
  const [e, i, a] = [await event(), await incident(), await person('孙丽')];
  await db.pool.query(`INSERT INTO core.event_participants (event_id, person_id, role) VALUES ($1, $2, 'party')`, [e, a]);
  await db.pool.query(`INSERT INTO police.incident_parties (incident_id, person_id, role) VALUES ($1, $2, 'party')`, [i, a]);
  await expect(db.pool.query('DELETE FROM core.persons WHERE id = $1', [a])).rejects.toEqual(violation('event_participants_person_id_fkey'));
  await expect(db.pool.query('UPDATE core.persons SET id = $2 WHERE id = $1', [a, uuidv7()])).rejects.toEqual(violation('event_participants_person_id_fkey'));
  await expect(db.pool.query('UPDATE core.events SET id = $2 WHERE id = $1', [e, uuidv7()])).rejects.toEqual(violation('event_participants_event_id_fkey'));
  await expect(db.pool.query('UPDATE police.incidents SET id = $2 WHERE id = $1', [i, uuidv7()])).rejects.toEqual(violation('incident_parties_incident_id_fkey'));
  await db.pool.query('UPDATE core.persons SET name = $2 WHERE id = $1', [a, '孙丽丽']); // not the key: allowed
  await db.pool.query('DELETE FROM core.event_participants WHERE person_id = $1', [a]);
  await db.pool.query('DELETE FROM police.incident_parties WHERE person_id = $1', [a]); // parties name persons without a key check, as before
  await db.pool.query('DELETE FROM core.persons WHERE id = $1', [a]);
  expect(await count('core.persons WHERE id = $1', [a])).toBe(0);
});

it('makes a delete of an event wait for a transaction adding a participant to it, then takes the participant along', async () => {
  const [e, a] = [await event(), await person('周杰')];
  const adder = await db.pool.connect();
  const deleter = await db.pool.connect();
  try {
    await adder.query('BEGIN');
    await adder.query(`INSERT INTO core.event_participants (event_id, person_id, role) VALUES ($1, $2, 'party')`, [e, a]);
    await deleter.query('BEGIN');
    let deleted = false;
    const deleting = deleter.query('DELETE FROM core.events WHERE id = $1', [e]).then(() => { deleted = true; });
    await new Promise((r) => setTimeout(r, 200));
    expect(deleted).toBe(false); // waits on the event's FOR KEY SHARE lock
    await adder.query('COMMIT');
    await deleting;
    await deleter.query('COMMIT');
  } finally {
    adder.release();
    deleter.release();
  }
  expect(await count('core.event_participants WHERE event_id = $1', [e])).toBe(0);
  expect(await count('core.events WHERE id = $1', [e])).toBe(0);
});
