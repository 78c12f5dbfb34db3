import { randomUUID } from 'node:crypto';
import { generateIdNumber } from '../../domain/id-number';
import { withTransaction } from '../../platform/db';
import { createTestDatabase, type TestDatabase } from '../../test/support/db';
import { linkPersons } from '../index';
import type { PersonMention } from '../types';

const CONNECTOR = randomUUID();

function mention(over: Partial<PersonMention> & { name: string }): PersonMention {
  const recordId = over.recordId ?? randomUUID();
  return {
    ref: over.ref ?? recordId, department: 'POLICE', sourceTable: 'police.household_registrations', recordId,
    recordKey: recordId.slice(0, 8), connectorId: CONNECTOR, ...over,
  };
}

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
