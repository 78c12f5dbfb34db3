import { randomUUID } from 'node:crypto';
import { generateIdNumber } from '../../domain/id-number';
import { withTransaction } from '../../platform/db';
import { createTestDatabase, type TestDatabase } from '../../test/support/db';
import { linkPersons } from '../index';
import type { PersonMention } from '../types';
import { mentionsOf } from './fixtures';

const mention = mentionsOf('POLICE', 'police.household_registrations');

describe('person linking', () => {
  let db: TestDatabase;
  beforeAll(async () => { db = await createTestDatabase('linkpersons'); });
  afterAll(async () => { await db.drop(); });

  const link = (ms: PersonMention[]) => withTransaction(db.pool, (c) => linkPersons(c, ms));

  it('links exactly on a valid ID number, however it was written, across departments', async () => {
    const id = generateIdNumber('510104', '1980-03-04', 123, 'M');
    const a = mention({ name: '张伟', idNumber: id });
    const b = mention({ name: '张伟', idNumber: ` ${id.slice(0, 9)} ${id.slice(9)}`.replace(/\d/g, (d) => String.fromCharCode(0xff10 + Number(d))), department: 'CIVIL_AFFAIRS', sourceTable: 'civil.subsidies' });
    const [la, lb] = await link([a, b]);
    expect(la!.personId).toBe(lb!.personId);
    expect(la!.created).toBe(true);
    const { rows } = await db.pool.query('SELECT id_number, name, birth_date, sex FROM core.persons WHERE id = $1', [la!.personId]);
    expect(rows[0]).toEqual({ id_number: id, name: '张伟', birth_date: '1980-03-04', sex: 'M' });
    const [lc] = await link([mention({ name: '张伟', idNumber: id.toLowerCase(), sourceTable: 'petition.petitions', department: 'PETITION' })]);
    expect(lc!.personId).toBe(la!.personId);
    expect(lc!.method).toBe('id_number');
  });

  it('upgrades a legacy 15-digit number to the 18-digit person', async () => {
    const id18 = generateIdNumber('510105', '1962-11-20', 31, 'F');
    const id15 = generateIdNumber('510105', '1962-11-20', 31, 'F', 15);
    const [a] = await link([mention({ name: '李秀英', idNumber: id18 })]);
    const [b] = await link([mention({ name: '李秀英', idNumber: id15, sourceTable: 'justice.corrections', department: 'JUSTICE' })]);
    expect(b!.personId).toBe(a!.personId);
    expect(b!.method).toBe('id_number');
  });

  it('returns the same person when a batch is replayed, and writes nothing new', async () => {
    const ms = [mention({ name: '王芳', idNumber: generateIdNumber('510106', '1990-01-02', 8, 'F') }), mention({ name: '赵六' })];
    const first = await link(ms);
    const count = async () => Number((await db.pool.query('SELECT count(*) FROM core.persons')).rows[0].count);
    const before = await count();
    const again = await link(ms);
    expect(again.map((l) => l.personId)).toEqual(first.map((l) => l.personId));
    expect(again.every((l) => !l.created)).toBe(true);
    expect(await count()).toBe(before);
  });

  it('makes one person when concurrent batches bring the same new ID number', async () => {
    const id = generateIdNumber('510107', '1975-07-07', 55, 'M');
    const batches = Array.from({ length: 4 }, (_, i) => [mention({ name: '陈刚', idNumber: id, recordId: randomUUID(), ref: `r${i}` })]);
    const results = await Promise.all(batches.map((b) => link(b)));
    const persons = new Set(results.map((r) => r[0]!.personId));
    expect(persons.size).toBe(1);
    const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM core.persons WHERE id_number = $1', [id]);
    expect(rows[0].n).toBe(1);
  });
});

describe('person linking without a valid ID number', () => {
  let db: TestDatabase;
  beforeAll(async () => { db = await createTestDatabase('linkscored'); });
  afterAll(async () => { await db.drop(); });

  const link = (ms: PersonMention[]) => withTransaction(db.pool, (c) => linkPersons(c, ms));
  const civil = (over: Partial<PersonMention> & { name: string }) => mention({ department: 'CIVIL_AFFAIRS', sourceTable: 'civil.subsidies', ...over });

  it('links a homophone of the name (张伟 / 张玮) when birth date and phone agree', async () => {
    const [a] = await link([mention({ name: '张伟', idNumber: generateIdNumber('510104', '1982-05-17', 11, 'M'), phone: '13800138000' })]);
    const [b] = await link([civil({ name: '张玮', birthDate: '1982-05-17', phone: '138 0013 8000', sex: 'M' })]);
    expect(b!.personId).toBe(a!.personId);
    expect(b!.method).toBe('scored');
    expect(b!.evidence).toMatchObject({ name: 'homophone', birthDate: 'same', phone: 'same' });
    const { rows } = await db.pool.query('SELECT method, score, evidence FROM core.person_records WHERE person_id = $1 AND method = $2', [a!.personId, 'scored']);
    expect(rows[0].score).toBeGreaterThanOrEqual(7);
    expect(rows[0].evidence.name).toBe('homophone');
  });

  it('links a record whose birth date has day and month swapped', async () => {
    const [a] = await link([mention({ name: '李娜', idNumber: generateIdNumber('510105', '1985-03-07', 22, 'F'), phone: '13912345678' })]);
    const [b] = await link([civil({ name: '李娜', birthDate: '1985-07-03', phone: '13912345678' })]);
    expect(b!.personId).toBe(a!.personId);
    expect(b!.evidence).toMatchObject({ birthDate: 'swapped' });
  });

  it('keeps family members at one address and one phone apart', async () => {
    const address = '锦江区永丰街38号1栋2单元2202室';
    const family = await link([
      mention({ name: '王建国', birthDate: '1960-02-01', sex: 'M', phone: '02885551234', address }),
      mention({ name: '王强', birthDate: '1988-09-12', sex: 'M', phone: '02885551234', address }),
      mention({ name: '刘秀英', birthDate: '1962-11-30', sex: 'F', phone: '02885551234', address }),
    ]);
    expect(new Set(family.map((l) => l.personId)).size).toBe(3);
  });

  it('keeps twins with the same birth date, address and phone apart', async () => {
    const address = '锦江区永丰街40号1栋1单元101室';
    const twins = await link([
      mention({ name: '陈浩然', birthDate: '2010-06-01', sex: 'M', phone: '13500001111', address }),
      mention({ name: '陈浩宇', birthDate: '2010-06-01', sex: 'M', phone: '13500001111', address }),
    ]);
    expect(twins[0]!.personId).not.toBe(twins[1]!.personId);
    // Later records of each twin still find the right one.
    const again = await link([civil({ name: '陈浩宇', birthDate: '2010-06-01', phone: '13500001111' }), civil({ name: '陈浩然', birthDate: '2010-06-01', phone: '13500001111' })]);
    expect(again[0]!.personId).toBe(twins[1]!.personId);
    expect(again[1]!.personId).toBe(twins[0]!.personId);
  });

  it('never links on an invalid ID number alone', async () => {
    const valid = generateIdNumber('510106', '1979-12-24', 77, 'M');
    const wrongCheck = valid.slice(0, 17) + (valid[17] === '0' ? '1' : '0');
    const [a] = await link([mention({ name: '周明', idNumber: valid })]);
    // Same digits but a wrong check digit and a different name: evidence, not identity.
    const [b] = await link([civil({ name: '吴刚', idNumber: wrongCheck })]);
    expect(b!.personId).not.toBe(a!.personId);
    const [c] = await link([civil({ name: '郑伟', idNumber: wrongCheck })]);
    expect(c!.personId).not.toBe(b!.personId);
    const { rows } = await db.pool.query('SELECT id_number FROM core.persons WHERE id = $1', [b!.personId]);
    expect(rows[0].id_number).toBeNull();
    // With the same name, the near-identical number is strong evidence.
    const [d] = await link([civil({ name: '周明', idNumber: wrongCheck })]);
    expect(d!.personId).toBe(a!.personId);
  });

  it('links a name-only record within its source group, and not outside it', async () => {
    const [a] = await link([civil({ name: '赵淑珍', idNumber: generateIdNumber('510104', '1950-01-09', 40, 'F'), groupKey: 'CIVIL_AFFAIRS:household:7' })]);
    const [b] = await link([civil({ name: '赵淑珍', groupKey: 'CIVIL_AFFAIRS:household:7' })]);
    const [c] = await link([civil({ name: '赵淑珍', groupKey: 'CIVIL_AFFAIRS:household:8' })]);
    expect(b!.personId).toBe(a!.personId);
    expect(c!.personId).not.toBe(a!.personId);
  });

  it('does not give a name-only care visit to one of two registered persons bearing the name', async () => {
    const care = 'CIVIL_AFFAIRS:care:东湖社区居家养老服务站';
    const [first] = await link([civil({ name: '刘秀淑', idNumber: generateIdNumber('510104', '1953-03-01', 12, 'F'), groupKey: care })]);
    const [second] = await link([mention({ name: '刘秀淑', idNumber: generateIdNumber('510104', '1949-07-15', 40, 'F') })]);
    expect(second!.personId).not.toBe(first!.personId);
    const [visit] = await link([civil({ name: '刘秀淑', groupKey: care })]);
    expect(visit!.personId).not.toBe(first!.personId);
    expect(visit!.personId).not.toBe(second!.personId);
    const { rows } = await db.pool.query('SELECT candidate_person_id FROM core.link_reviews WHERE person_id = $1', [visit!.personId]);
    expect(rows.map((r) => r.candidate_person_id)).toEqual([first!.personId]);
  });

  it('sends a grey-band match to the review queue and gives the mention its own person', async () => {
    const [a] = await link([mention({ name: '孙丽', idNumber: generateIdNumber('510104', '1991-04-15', 5, 'F') })]);
    // Same name and birth date, nothing else: plausible, not enough to merge.
    const [b] = await link([mention({ name: '孙丽', birthDate: '1991-04-15', sourceTable: 'petition.petitions', department: 'PETITION' })]);
    expect(b!.personId).not.toBe(a!.personId);
    const { rows } = await db.pool.query('SELECT person_id, candidate_person_id, status, evidence FROM core.link_reviews WHERE person_id = $1', [b!.personId]);
    expect(rows).toEqual([{ person_id: b!.personId, candidate_person_id: a!.personId, status: 'pending', evidence: expect.objectContaining({ name: 'same', birthDate: 'same' }) }]);
  });

  it('absorbs a person known only by name and group once a record with the ID number arrives, in any order', async () => {
    const id = generateIdNumber('510104', '1948-10-10', 61, 'F');
    const care = 'CIVIL_AFFAIRS:care:河滨社区居家养老服务站';
    // A care visit written with a name only, then the register (no group: too little to join the visit) ...
    const [early] = await link([civil({ name: '钱英芳', groupKey: care, sourceTable: 'civil.care_services' })]);
    const [register] = await link([mention({ name: '钱英芳', idNumber: id })]);
    expect(register!.personId).not.toBe(early!.personId);
    // ... then a care visit with the number: it joins the register's person and recognises the early visit.
    const [later] = await link([civil({ name: '钱英芳', idNumber: id, groupKey: care, sourceTable: 'civil.care_services' })]);
    expect(later!.personId).toBe(register!.personId);
    const { rows } = await db.pool.query('SELECT merged_into FROM core.persons WHERE id = $1', [early!.personId]);
    expect(rows[0].merged_into).toBe(later!.personId);
    const recs = await db.pool.query('SELECT count(*)::int AS n FROM core.person_records WHERE person_id = $1', [later!.personId]);
    expect(recs.rows[0].n).toBe(3);
    const outbox = await db.pool.query(`SELECT op FROM hub.outbox WHERE entity_type = 'Person' AND entity_id = $1`, [early!.personId]);
    expect(outbox.rows.map((r) => r.op)).toEqual(['DELETE']);
    // Replaying the early record now answers with the person it was merged into.
    const [replayed] = await link([civil({ name: '钱英芳', groupKey: care, sourceTable: 'civil.care_services', recordId: (await db.pool.query(
      `SELECT record_id FROM core.person_records WHERE person_id = $1 AND id_number IS NULL`, [later!.personId])).rows[0].record_id })]);
    expect(replayed!.personId).toBe(later!.personId);
  });

  it('links mentions of one new person inside one batch to each other', async () => {
    const batch = await link([
      civil({ name: '何俊杰', birthDate: '1999-09-09', phone: '18612345678' }),
      mention({ name: '何俊杰', birthDate: '1999-09-09', phone: '18612345678', sourceTable: 'petition.petitions', department: 'PETITION' }),
    ]);
    expect(batch[0]!.personId).toBe(batch[1]!.personId);
    expect(batch[0]!.created).toBe(true);
    expect(batch[1]!.created).toBe(false);
  });
});
