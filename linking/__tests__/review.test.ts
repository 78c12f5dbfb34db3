import { randomUUID } from 'node:crypto';
import { generateIdNumber } from '../../domain/id-number';
import { withTransaction } from '../../platform/db';
import { createTestDatabase, type TestDatabase } from '../../test/support/db';
import { linkPersons } from '../index';
import { acceptReview, listReviews, mergePersons, rejectReview, splitRecord } from '../review';
import type { PersonMention } from '../types';

function mention(over: Partial<PersonMention> & { name: string }): PersonMention {
  const recordId = over.recordId ?? randomUUID();
  return { ref: recordId, department: 'PETITION', sourceTable: 'petition.petitions', recordId, recordKey: recordId.slice(0, 8), connectorId: randomUUID(), ...over };
}

describe('linking review: accept, reject, split, merge', () => {
  let db: TestDatabase;
  beforeAll(async () => { db = await createTestDatabase('linkreview'); });
  afterAll(async () => { await db.drop(); });

  const link = (ms: PersonMention[]) => withTransaction(db.pool, (c) => linkPersons(c, ms));
  const tx = <T>(fn: Parameters<typeof withTransaction<T>>[1]) => withTransaction(db.pool, fn);
  const outbox = async (id: string) => (await db.pool.query('SELECT op, data FROM hub.outbox WHERE entity_type = $1 AND entity_id = $2 ORDER BY id', ['Person', id])).rows;

  /** A person with an ID number and a grey-band mention of the same name and birth date. */
  async function greyPair(name: string, birth: string) {
    const [a] = await link([mention({ name, idNumber: generateIdNumber('510104', birth, 9, 'F'), department: 'POLICE', sourceTable: 'police.household_registrations' })]);
    const [b] = await link([mention({ name, birthDate: birth })]);
    const { rows } = await listReviews(db.pool, { status: 'pending', personId: b!.personId });
    expect(rows).toHaveLength(1);
    return { a: a!, b: b!, review: rows[0]! };
  }

  it('accept merges the mention\'s person into the candidate, with outbox rows for both', async () => {
    const { a, b, review } = await greyPair('孙丽', '1991-04-15');
    expect(review).toMatchObject({ personId: b.personId, candidatePersonId: a.personId, status: 'pending', department: 'PETITION' });
    const result = await tx((c) => acceptReview(c, review.id, 'u-city'));
    expect(result).toEqual({ personId: a.personId, mergedPersonId: b.personId, recordsMoved: 1 });
    const { rows } = await db.pool.query('SELECT merged_into FROM core.persons WHERE id = $1', [b.personId]);
    expect(rows[0].merged_into).toBe(a.personId);
    const recs = await db.pool.query('SELECT count(*)::int AS n FROM core.person_records WHERE person_id = $1', [a.personId]);
    expect(recs.rows[0].n).toBe(2);
    expect((await outbox(a.personId)).map((o) => o.op)).toContain('UPDATE');
    expect((await outbox(b.personId)).map((o) => o.op)).toEqual(['DELETE']);
    // A decided review cannot be decided again, and a replay of the merged mention lands on the kept person.
    await expect(tx((c) => acceptReview(c, review.id, 'u-city'))).rejects.toMatchObject({ code: 'TL_ERR_CONFLICT' });
    const decisions = await db.pool.query('SELECT action, actor FROM core.link_decisions WHERE review_id = $1', [review.id]);
    expect(decisions.rows).toEqual([{ action: 'accept', actor: 'u-city' }]);
  });

  it('reject closes the review and keeps both persons', async () => {
    const { a, b, review } = await greyPair('周婷', '1993-08-08');
    const row = await tx((c) => rejectReview(c, review.id, 'u-city', 'different mothers'));
    expect(row).toMatchObject({ status: 'rejected', decidedBy: 'u-city', note: 'different mothers' });
    const { rows } = await db.pool.query('SELECT id, merged_into FROM core.persons WHERE id = ANY($1::uuid[]) ORDER BY id', [[a.personId, b.personId]]);
    expect(rows.every((r) => r.merged_into === null)).toBe(true);
    expect((await listReviews(db.pool, { status: 'pending', personId: b.personId })).rows).toHaveLength(0);
  });

  it('split moves a wrongly linked record to a new person of its own', async () => {
    const id = generateIdNumber('510105', '1970-01-20', 31, 'M');
    const [a] = await link([mention({ name: '黄强', idNumber: id, phone: '13700001111', department: 'POLICE', sourceTable: 'police.household_registrations' })]);
    const wrong = mention({ name: '黄强', birthDate: '1970-01-20', phone: '13700001111', sex: 'M' });
    const [w] = await link([wrong]);
    expect(w!.personId).toBe(a!.personId);
    const result = await tx((c) => splitRecord(c, { sourceTable: wrong.sourceTable, recordId: wrong.recordId }, 'u-city'));
    expect(result.fromPersonId).toBe(a!.personId);
    expect(result.personId).not.toBe(a!.personId);
    const { rows } = await db.pool.query('SELECT person_id, method FROM core.person_records WHERE record_id = $1', [wrong.recordId]);
    expect(rows[0]).toEqual({ person_id: result.personId, method: 'manual' });
    expect((await outbox(result.personId)).map((o) => o.op)).toEqual(['CREATE']);
    expect((await outbox(a!.personId)).map((o) => o.op)).toEqual(['UPDATE']);
    // The split stands when the batch is replayed.
    const [again] = await link([wrong]);
    expect(again!.personId).toBe(result.personId);
    // A record carrying the person's own ID number cannot be split away from it.
    const own = await db.pool.query(`SELECT source_table, record_id FROM core.person_records WHERE person_id = $1`, [a!.personId]);
    await expect(tx((c) => splitRecord(c, { sourceTable: own.rows[0].source_table, recordId: own.rows[0].record_id }, 'u-city'))).rejects.toMatchObject({ code: 'TL_ERR_CONFLICT' });
  });

  it('merge joins a missed link, moves the ID number, and refuses two different ID numbers', async () => {
    const [x] = await link([mention({ name: '罗建华', birthDate: '1965-05-05' })]);
    const id = generateIdNumber('510106', '1965-05-06', 11, 'M');
    const [y] = await link([mention({ name: '罗建华', idNumber: id, department: 'JUSTICE', sourceTable: 'justice.corrections' })]);
    expect(y!.personId).not.toBe(x!.personId);
    const r = await tx((c) => mergePersons(c, x!.personId, y!.personId, 'u-city'));
    expect(r).toEqual({ personId: x!.personId, mergedPersonId: y!.personId, recordsMoved: 1 });
    const { rows } = await db.pool.query('SELECT id_number FROM core.persons WHERE id = $1', [x!.personId]);
    expect(rows[0].id_number).toBe(id);
    // Later mentions with the number find the kept person.
    const [z] = await link([mention({ name: '罗建华', idNumber: id })]);
    expect(z!.personId).toBe(x!.personId);
    const [other] = await link([mention({ name: '罗建华', idNumber: generateIdNumber('510107', '1980-02-02', 13, 'M') })]);
    await expect(tx((c) => mergePersons(c, x!.personId, other!.personId, 'u-city'))).rejects.toMatchObject({ code: 'TL_ERR_CONFLICT' });
    await expect(tx((c) => mergePersons(c, x!.personId, y!.personId, 'u-city'))).rejects.toMatchObject({ code: 'TL_ERR_CONFLICT' });
  });

  it('a merge waits for the linking batch in flight: the batch\'s new record moves with the merged person', async () => {
    // The batch links a new care-visit record to B (same name, birth date and phone) and has not committed when an
    // administrator merges B into A. Run between the batch's reads and its commit, the merge would move B's one
    // record and leave the batch's record (and its keys) with B, merged, where no look-up finds it any more.
    const [a] = await link([mention({ name: '韦小宝', idNumber: generateIdNumber('510104', '1962-03-03', 21, 'M'), department: 'POLICE', sourceTable: 'police.household_registrations' })]);
    const visit = { name: '钱慧', birthDate: '1948-09-09', phone: '13811112222', department: 'CIVIL_AFFAIRS' as const, sourceTable: 'civil.services' };
    const [b] = await link([mention(visit)]);
    const batch = await db.pool.connect();
    try {
      await batch.query('BEGIN');
      const [m] = await linkPersons(batch, [mention(visit)]);
      expect(m).toMatchObject({ personId: b!.personId, method: 'scored' });
      const merge = tx((c) => mergePersons(c, a!.personId, b!.personId, 'u-city'));
      let merged = false;
      void merge.then(() => { merged = true; }, () => undefined);
      await new Promise((r) => setTimeout(r, 300));
      expect(merged).toBe(false);
      await batch.query('COMMIT');
      expect(await merge).toEqual({ personId: a!.personId, mergedPersonId: b!.personId, recordsMoved: 2 });
      const recs = await db.pool.query('SELECT count(*)::int AS n FROM core.person_records WHERE person_id = $1', [b!.personId]);
      expect(recs.rows[0].n).toBe(0);
      // The next visit finds the kept person by the keys the batch wrote.
      const [next] = await link([mention(visit)]);
      expect(next!.personId).toBe(a!.personId);
    } finally {
      await batch.query('ROLLBACK').catch(() => undefined);
      batch.release();
    }
  });
});
