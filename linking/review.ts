import { randomUUID } from 'node:crypto';
import type { PoolClient, Queryable } from '../platform/db';
import { HubError } from '../platform/errors';
import { takeLinkingLock } from './linking-lock';
import { insertMissingKeysSql, recordKeysSql } from './person-features';

/**
 * The linking review queue and the manual link operations behind it. Every function takes a client inside the
 * caller's transaction; every decision is recorded in `core.link_decisions` and produces `hub.outbox` rows
 * (entity Person) so the graph's change events follow:
 *  - accept: the grey-band mention's person and the candidate are one → merge them;
 *  - reject: they are not → the pair is closed and not proposed again for this mention;
 *  - split:  a record was linked wrongly → it moves to a new person of its own (method 'manual');
 *  - merge:  two persons are one → the second is merged into the first (persons.merged_into), its records,
 *            department rows and event participations move, its ID number too when the first has none.
 * Who may decide is the caller's business (the admin subgraph allows city-admin only: see docs/linking.md).
 * Accept, split and merge take the linking lock first (linking-lock.ts): they wait for a linking batch in flight
 * and run as if between two batches; linking's own absorption of a person (absorbPerson) runs under it already.
 */
export interface RecordRef {
  sourceTable: string;
  recordId: string;
  mentionKey?: string;
}

export interface ReviewRow {
  id: string;
  sourceTable: string;
  recordId: string;
  mentionKey: string;
  department: string | null;
  personId: string;
  candidatePersonId: string;
  score: number;
  evidence: Record<string, unknown>;
  status: 'pending' | 'accepted' | 'rejected' | 'obsolete';
  decidedBy: string | null;
  decidedAt: Date | null;
  note: string | null;
  createdAt: Date;
}

export interface PersonSummary {
  id: string;
  name: string;
  idNumber: string | null;
  sex: string | null;
  birthDate: string | null;
  phone: string | null;
  gridCode: string | null;
  mergedInto: string | null;
  records: number;
}

export interface MergeResult {
  personId: string;
  mergedPersonId: string;
  recordsMoved: number;
}

export interface SplitResult {
  fromPersonId: string;
  personId: string;
}

const REVIEW_COLUMNS = `r.id::text, r.source_table AS "sourceTable", r.record_id AS "recordId", r.mention_key AS "mentionKey",
  pr.department, r.person_id AS "personId", r.candidate_person_id AS "candidatePersonId", r.score, r.evidence, r.status,
  r.decided_by AS "decidedBy", r.decided_at AS "decidedAt", r.note, r.created_at AS "createdAt"`;
const REVIEW_FROM = `core.link_reviews r LEFT JOIN core.person_records pr
  ON pr.source_table = r.source_table AND pr.record_id = r.record_id AND pr.mention_key = r.mention_key`;

export interface ReviewFilter {
  status?: ReviewRow['status'];
  department?: string;
  personId?: string;
}

/** Reviews in queue order (oldest first), keyset-paged by id. */
export async function listReviews(db: Queryable, filter: ReviewFilter = {}, page: { first?: number; after?: string } = {}): Promise<{ rows: ReviewRow[]; hasNextPage: boolean; totalCount: number }> {
  const params: unknown[] = [];
  const where: string[] = [];
  if (filter.status) { params.push(filter.status); where.push(`r.status = $${params.length}`); }
  if (filter.department) { params.push(filter.department); where.push(`pr.department = $${params.length}`); }
  if (filter.personId) { params.push(filter.personId); where.push(`(r.person_id = $${params.length} OR r.candidate_person_id = $${params.length})`); }
  const cond = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const total = await db.query(`SELECT count(*)::int AS n FROM ${REVIEW_FROM} ${cond}`, params);
  const first = Math.min(Math.max(page.first ?? 50, 1), 500);
  const pageParams = [...params];
  let pageCond = cond;
  if (page.after) {
    if (!/^\d+$/.test(page.after)) throw new HubError('TL_ERR_BAD_USER_INPUT', `after must be a review id, got "${page.after}"`);
    pageParams.push(page.after);
    pageCond = `${cond ? `${cond} AND` : 'WHERE'} r.id > $${pageParams.length}`;
  }
  pageParams.push(first + 1);
  const r = await db.query<ReviewRow>(`SELECT ${REVIEW_COLUMNS} FROM ${REVIEW_FROM} ${pageCond} ORDER BY r.id LIMIT $${pageParams.length}`, pageParams);
  return { rows: r.rows.slice(0, first), hasNextPage: r.rows.length > first, totalCount: total.rows[0].n };
}

export async function getReview(db: Queryable, id: string): Promise<ReviewRow | null> {
  if (!/^\d+$/.test(id)) throw new HubError('TL_ERR_BAD_USER_INPUT', `review id must be a number, got "${id}"`);
  const r = await db.query<ReviewRow>(`SELECT ${REVIEW_COLUMNS} FROM ${REVIEW_FROM} WHERE r.id = $1`, [id]);
  return r.rows[0] ?? null;
}

export async function personSummaries(db: Queryable, ids: readonly string[]): Promise<Map<string, PersonSummary>> {
  const r = await db.query<PersonSummary>(
    `SELECT p.id, p.name, p.id_number AS "idNumber", p.sex, p.birth_date AS "birthDate", p.phone, p.grid_code AS "gridCode",
            p.merged_into AS "mergedInto", (SELECT count(*)::int FROM core.person_records pr WHERE pr.person_id = p.id) AS records
       FROM core.persons p WHERE p.id = ANY($1::uuid[])`, [ids]);
  return new Map(r.rows.map((p) => [p.id, p]));
}

async function lockReview(client: PoolClient, id: string): Promise<ReviewRow> {
  if (!/^\d+$/.test(id)) throw new HubError('TL_ERR_BAD_USER_INPUT', `review id must be a number, got "${id}"`);
  await client.query('SELECT 1 FROM core.link_reviews WHERE id = $1 FOR UPDATE', [id]);
  const review = await getReview(client, id);
  if (!review) throw new HubError('TL_ERR_NOT_FOUND', `No review ${id}`);
  if (review.status !== 'pending') throw new HubError('TL_ERR_CONFLICT', `Review ${id} is ${review.status} already`, { status: review.status });
  return review;
}

/** The persons are one: the mention's person is merged into the candidate. */
export async function acceptReview(client: PoolClient, id: string, actor: string, note?: string): Promise<MergeResult> {
  await takeLinkingLock(client);
  const review = await lockReview(client, id);
  const keep = await resolvePerson(client, review.candidatePersonId);
  const drop = await resolvePerson(client, review.personId);
  const result = keep === drop
    ? { personId: keep, mergedPersonId: drop, recordsMoved: 0 }
    : await mergeInto(client, keep, drop, actor, { reviewId: id, action: 'accept', note });
  await client.query(`UPDATE core.link_reviews SET status = 'accepted', decided_by = $2, decided_at = now(), note = $3 WHERE id = $1`, [id, actor, note ?? null]);
  if (keep === drop) await recordDecision(client, 'accept', { reviewId: id, personId: keep, otherId: drop, records: [], actor, note });
  return result;
}

/** The persons are not one: the review is closed; the mention stays with its own person. */
export async function rejectReview(client: PoolClient, id: string, actor: string, note?: string): Promise<ReviewRow> {
  const review = await lockReview(client, id);
  await client.query(`UPDATE core.link_reviews SET status = 'rejected', decided_by = $2, decided_at = now(), note = $3 WHERE id = $1`, [id, actor, note ?? null]);
  await recordDecision(client, 'reject', { reviewId: id, personId: review.personId, otherId: review.candidatePersonId, records: [], actor, note });
  return (await getReview(client, id))!;
}

/** Merge `otherId` into `personId` (a missed link). */
export async function mergePersons(client: PoolClient, personId: string, otherId: string, actor: string, note?: string): Promise<MergeResult> {
  await takeLinkingLock(client);
  const keep = await resolvePerson(client, personId);
  const drop = await resolvePerson(client, otherId);
  if (keep === drop) throw new HubError('TL_ERR_CONFLICT', `Persons ${personId} and ${otherId} are one person already`, { personId: keep });
  return mergeInto(client, keep, drop, actor, { action: 'merge', note });
}

/** Move one record (a wrong link) to a new person of its own, made from the record's own features. */
export async function splitRecord(client: PoolClient, ref: RecordRef, actor: string, note?: string): Promise<SplitResult> {
  await takeLinkingLock(client);
  const mentionKey = ref.mentionKey ?? '';
  const rec = await client.query<{ person_id: string; name: string | null; sex: string | null; birth_date: string | null; phone: string | null; id_number: string | null }>(
    `SELECT person_id, name, sex, birth_date, phone, id_number FROM core.person_records
      WHERE source_table = $1 AND record_id = $2 AND mention_key = $3 FOR UPDATE`, [ref.sourceTable, ref.recordId, mentionKey]);
  const row = rec.rows[0];
  if (!row) throw new HubError('TL_ERR_NOT_FOUND', `No linked record ${ref.sourceTable}/${ref.recordId}${mentionKey ? `#${mentionKey}` : ''}`);
  const from = row.person_id;
  const others = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM core.person_records WHERE person_id = $1', [from]);
  if (others.rows[0]!.n <= 1) throw new HubError('TL_ERR_CONFLICT', 'The record is the only one of its person: nothing to split', { personId: from });
  // The ID number is identity: a record carrying the person's own number cannot leave it.
  const holder = await client.query<{ id_number: string | null; grid_code: string | null }>('SELECT id_number, grid_code FROM core.persons WHERE id = $1 FOR UPDATE', [from]);
  if (row.id_number && holder.rows[0]?.id_number === row.id_number) {
    throw new HubError('TL_ERR_CONFLICT', 'The record carries the person\'s own valid ID number; split the other records instead', { personId: from });
  }
  const id = randomUUID();
  await client.query(
    `INSERT INTO core.persons (id, id_number, name, sex, birth_date, phone) VALUES ($1, $2, $3, $4, $5, $6)`,
    [id, row.id_number, row.name ?? '(unknown)', row.sex, row.birth_date, row.phone]);
  await client.query(
    `UPDATE core.person_records SET person_id = $4, method = 'manual', score = NULL,
            evidence = jsonb_build_object('splitFrom', $5::text, 'by', $6::text, 'previous', evidence), linked_at = now()
      WHERE source_table = $1 AND record_id = $2 AND mention_key = $3`,
    [ref.sourceTable, ref.recordId, mentionKey, id, String(from), actor]);
  await repoint(client, [from], id, [{ sourceTable: ref.sourceTable, recordId: ref.recordId }]);
  for (const table of row.id_number ? ['core.person_keys'] : ['core.person_keys', 'core.person_open_keys']) {
    await client.query(insertMissingKeysSql(table,
      `SELECT k, $4::uuid FROM core.person_records pr, ${recordKeysSql('pr')} AS k
        WHERE pr.source_table = $1 AND pr.record_id = $2 AND pr.mention_key = $3`), [ref.sourceTable, ref.recordId, mentionKey, id]);
  }
  // Reviews about this mention are settled by the split.
  await client.query(
    `UPDATE core.link_reviews SET status = 'obsolete', decided_by = $4, decided_at = now()
      WHERE source_table = $1 AND record_id = $2 AND mention_key = $3 AND status = 'pending'`, [ref.sourceTable, ref.recordId, mentionKey, actor]);
  await client.query(
    `INSERT INTO hub.outbox (entity_type, entity_id, op, grid_code, changed_fields, data)
     VALUES ('Person', $1::uuid, 'UPDATE', $3, '{sourceRecords}', jsonb_build_object('reason', 'split', 'record', $4::jsonb)),
            ('Person', $2::uuid, 'CREATE', NULL, '{}', jsonb_build_object('reason', 'split', 'splitFrom', $5::text, 'record', $4::jsonb))`,
    [from, id, holder.rows[0]?.grid_code ?? null, JSON.stringify({ sourceTable: ref.sourceTable, recordId: ref.recordId, mentionKey }), from]);
  await recordDecision(client, 'split', { personId: from, otherId: id, records: [{ ...ref, mentionKey }], actor, note });
  return { fromPersonId: from, personId: id };
}

/** Follow merged_into to the person that stands. */
async function resolvePerson(db: Queryable, id: string): Promise<string> {
  let cur = id;
  for (let hops = 0; hops < 20; hops++) {
    const r = await db.query<{ merged_into: string | null }>('SELECT merged_into FROM core.persons WHERE id = $1', [cur]);
    if (!r.rows[0]) throw new HubError('TL_ERR_NOT_FOUND', `No person ${id}`);
    if (!r.rows[0].merged_into) return cur;
    cur = r.rows[0].merged_into;
  }
  throw new HubError('TL_ERR_INTERNAL', `merged_into chain of ${id} does not end`);
}

/** Merge `drop` into `keep` without a review (linking's own absorption of a person without an ID number). */
export function absorbPerson(client: PoolClient, keep: string, drop: string, actor: string, how: { action: 'merge'; note?: string }): Promise<MergeResult> {
  return mergeInto(client, keep, drop, actor, how);
}

async function mergeInto(client: PoolClient, keep: string, drop: string, actor: string, how: { action: 'merge' | 'accept'; reviewId?: string; note?: string | undefined }): Promise<MergeResult> {
  // Lock both in a fixed order so two merges of the same pair cannot deadlock.
  const locked = await client.query<{ id: string; id_number: string | null; grid_code: string | null; residence_place_id: string | null }>(
    'SELECT id, id_number, grid_code, residence_place_id FROM core.persons WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE', [[keep, drop]]);
  const k = locked.rows.find((r) => r.id === keep)!;
  const d = locked.rows.find((r) => r.id === drop)!;
  if (k.id_number && d.id_number && k.id_number !== d.id_number) {
    throw new HubError('TL_ERR_CONFLICT', 'The two persons hold different valid ID numbers: they are not one person', { personId: keep, otherId: drop });
  }
  if (d.id_number && !k.id_number) {
    await client.query('UPDATE core.persons SET id_number = NULL WHERE id = $1', [drop]);
    await client.query('UPDATE core.persons SET id_number = $2 WHERE id = $1', [keep, d.id_number]);
  }
  await client.query(
    `UPDATE core.persons SET merged_into = $1, updated_at = now() WHERE id = $2`, [keep, drop]);
  await client.query(
    `UPDATE core.persons SET grid_code = coalesce(grid_code, $2), residence_place_id = coalesce(residence_place_id, $3::uuid), updated_at = now() WHERE id = $1`,
    [keep, d.grid_code, d.residence_place_id]);
  // Anything merged into the dropped person earlier now points at the kept one directly.
  await client.query('UPDATE core.persons SET merged_into = $1 WHERE merged_into = $2', [keep, drop]);
  // The kept person is found by the dropped one's blocking keys from now on: made from the dropped person's
  // records (core.person_keys has no index by person; keys left behind by the merged person are skipped by
  // every look-up, which joins core.persons and ignores merged persons).
  // A kept person still without an ID number is an open person (core.person_open_keys) with those keys too.
  for (const table of k.id_number || d.id_number ? ['core.person_keys'] : ['core.person_keys', 'core.person_open_keys']) {
    await client.query(insertMissingKeysSql(table,
      `SELECT k, $1::uuid FROM core.person_records pr, ${recordKeysSql('pr')} AS k WHERE pr.person_id = $2`), [keep, drop]);
  }
  const moved = await client.query<{ source_table: string; record_id: string; mention_key: string }>(
    `UPDATE core.person_records SET person_id = $1,
            evidence = evidence || jsonb_build_object('mergedFrom', $4::text, 'mergedBy', $3::text)
      WHERE person_id = $2 RETURNING source_table, record_id, mention_key`, [keep, drop, actor, drop]);
  await repoint(client, [drop], keep, null);
  // Open reviews between the two are settled; others of the dropped person now concern the kept one.
  await client.query(
    `UPDATE core.link_reviews SET status = 'obsolete', decided_by = $3, decided_at = now()
      WHERE status = 'pending' AND ((person_id = $1 AND candidate_person_id = $2) OR (person_id = $2 AND candidate_person_id = $1))
        AND ($4::bigint IS NULL OR id <> $4::bigint)`, [keep, drop, actor, how.reviewId ?? null]);
  await client.query(`UPDATE core.link_reviews SET person_id = $1 WHERE person_id = $2 AND status = 'pending'`, [keep, drop]);
  await client.query(`UPDATE core.link_reviews SET candidate_person_id = $1 WHERE candidate_person_id = $2 AND status = 'pending'`, [keep, drop]);
  await client.query(
    `INSERT INTO hub.outbox (entity_type, entity_id, op, grid_code, changed_fields, data)
     VALUES ('Person', $1::uuid, 'UPDATE', $3, '{sourceRecords,events}', jsonb_build_object('reason', 'merge', 'merged', $6::text)),
            ('Person', $2::uuid, 'DELETE', $4, '{}', jsonb_build_object('reason', 'merge', 'mergedInto', $5::text))`,
    [keep, drop, k.grid_code ?? d.grid_code, d.grid_code, keep, drop]);
  const records = moved.rows.map((r) => ({ sourceTable: r.source_table, recordId: r.record_id, mentionKey: r.mention_key }));
  await recordDecision(client, how.action, { reviewId: how.reviewId, personId: keep, otherId: drop, records, actor, note: how.note });
  return { personId: keep, mergedPersonId: drop, recordsMoved: moved.rowCount ?? 0 };
}

/**
 * Department rows and event participations follow their person. `records` null: every row of `from`;
 * otherwise only the rows of those records. Tables are the department record tables of migration 0003.
 */
const PERSON_COLUMNS: ReadonlyArray<{ table: string; key: string }> = [
  { table: 'police.household_registrations', key: 'id' }, { table: 'justice.corrections', key: 'id' },
  { table: 'civil.households', key: 'id' }, { table: 'civil.subsidies', key: 'id' }, { table: 'civil.care_services', key: 'id' },
  { table: 'petition.petitions', key: 'id' },
];
const PARTY_TABLES: ReadonlyArray<{ table: string; key: string; sourceTable: string }> = [
  { table: 'police.incident_parties', key: 'incident_id', sourceTable: 'police.incidents' },
  { table: 'justice.case_parties', key: 'case_id', sourceTable: 'justice.mediation_cases' },
];

async function repoint(client: PoolClient, from: string[], to: string, records: Array<{ sourceTable: string; recordId: string }> | null): Promise<void> {
  for (const t of PERSON_COLUMNS) {
    const ids = records?.filter((r) => r.sourceTable === t.table).map((r) => r.recordId);
    if (ids && !ids.length) continue;
    await client.query(
      `UPDATE ${t.table} SET person_id = $1 WHERE person_id = ANY($2::uuid[])${ids ? ' AND id = ANY($3::uuid[])' : ''}`,
      ids ? [to, from, ids] : [to, from]);
  }
  // Link tables keyed by (record, person, role): insert the new pair, then drop the old.
  for (const t of PARTY_TABLES) {
    const ids = records?.filter((r) => r.sourceTable === t.sourceTable).map((r) => r.recordId);
    if (ids && !ids.length) continue;
    const only = ids ? ` AND ${t.key} = ANY($3::uuid[])` : '';
    const params = ids ? [to, from, ids] : [to, from];
    await client.query(`INSERT INTO ${t.table} (${t.key}, person_id, role) SELECT ${t.key}, $1, role FROM ${t.table} WHERE person_id = ANY($2::uuid[])${only} ON CONFLICT DO NOTHING`, params);
    await client.query(`DELETE FROM ${t.table} WHERE person_id = ANY($2::uuid[])${only} AND $1::uuid IS NOT NULL`, params);
  }
  const onlyEvents = records ? ' AND e.source_table = ANY($3::text[]) AND e.source_id = ANY($4::uuid[])' : '';
  const params = records ? [to, from, records.map((r) => r.sourceTable), records.map((r) => r.recordId)] : [to, from];
  await client.query(
    `INSERT INTO core.event_participants (event_id, person_id, role)
     SELECT ep.event_id, $1, ep.role FROM core.event_participants ep JOIN core.events e ON e.id = ep.event_id
      WHERE ep.person_id = ANY($2::uuid[])${onlyEvents} ON CONFLICT DO NOTHING`, params);
  await client.query(
    `DELETE FROM core.event_participants ep USING core.events e
      WHERE e.id = ep.event_id AND ep.person_id = ANY($2::uuid[])${onlyEvents} AND $1::uuid IS NOT NULL`, params);
}

async function recordDecision(client: PoolClient, action: 'accept' | 'reject' | 'split' | 'merge', d: { reviewId?: string | undefined; personId: string; otherId: string; records: unknown[]; actor: string; note?: string | undefined }): Promise<void> {
  await client.query(
    `INSERT INTO core.link_decisions (action, review_id, person_id, other_id, records, actor, note) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [action, d.reviewId ?? null, d.personId, d.otherId, JSON.stringify(d.records), d.actor, d.note ?? null]);
}
