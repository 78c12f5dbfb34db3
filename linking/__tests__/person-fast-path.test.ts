import { generateIdNumber } from '../../domain/id-number';
import { withTransaction } from '../../platform/db';
import { createTestDatabase, type TestDatabase } from '../../test/support/db';
import { linkBatch, linkPersons, linkPlaces, prepareMentions } from '../index';
import { personFeatures } from '../person-features';
import { lookupKeys } from '../person-normalise';
import { loadAddressRegister } from '../place-linking';
import { preparedCount } from '../prepared-mentions';
import type { PersonMention } from '../types';
import { GRID_A, GRID_B, loadTestGrids, mentionsOf, withOutsiderPerson } from './fixtures';

/**
 * Round 6 of linking throughput (docs/linking.md): mentions with a valid ID number look only among persons
 * without a number; residences are written with new persons and set on known ones; places a batch does not
 * change are not written; prepareMentions normalises a coming batch ahead and changes no link.
 */
const mention = mentionsOf('CIVIL_AFFAIRS', 'civil.subsidies');

describe('person linking: valid ID numbers, residences, preparing ahead', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('linkfast');
    await loadTestGrids(db.pool);
    await withTransaction(db.pool, (c) => loadAddressRegister(c, [
      { sourceId: 'B1', address: '成都市锦江区东湖街道河滨社区永丰街38号1栋', gridCode: GRID_A },
      { sourceId: 'B2', address: '成都市锦江区东湖街道河滨社区永丰街38号2栋', gridCode: GRID_B },
    ]));
  });
  afterAll(async () => { await db.drop(); });

  const link = (ms: PersonMention[]) => withTransaction(db.pool, (c) => linkPersons(c, ms));
  /**
   * Links `ms` and returns, per candidate read the batch sent, its second list (the keys looked up among persons
   * without a number), and how many times the batch read the keys of those persons (linking/open-keys.ts).
   */
  const linkSeeingOrphanKeys = async (ms: PersonMention[]) => {
    const sent: string[][] = [];
    let openKeyReads = 0;
    const links = await withTransaction(db.pool, (c) => {
      const query = c.query.bind(c) as (...args: unknown[]) => unknown;
      (c as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
        const [text, values] = args as [unknown, unknown[] | undefined];
        if (typeof text === 'string' && text.startsWith('WITH hit AS')) {
          const v = values![1];
          sent.push(Array.isArray(v) ? v.map(String) : String(v).split('\u001f'));
        }
        if (typeof text === 'string' && text.includes('FROM core.person_open_keys WHERE seq >')) openKeyReads++;
        return query(...args);
      };
      return linkPersons(c, ms);
    });
    return { links, sent, openKeyReads };
  };
  const person = async (id: string) => (await db.pool.query(
    'SELECT id_number, residence_place_id, grid_code, merged_into FROM core.persons WHERE id = $1', [id])).rows[0];

  it('gives a new number to the person without one that the evidence names, and never joins a holder of another number', async () => {
    // A registered person with a number ...
    const other = generateIdNumber('510104', '1971-05-06', 70, 'F');
    const [holder] = await link([mention({ name: '唐丽华', idNumber: other, phone: '13688880009', sourceTable: 'police.household_registrations', department: 'POLICE' })]);
    // ... and a namesake born the same day, known without a number, with another phone (grey band: kept apart).
    const [early] = await link([mention({ name: '唐丽华', birthDate: '1971-05-06', sex: 'F', phone: '13688880001' })]);
    expect(early!.personId).not.toBe(holder!.personId);
    // A record with a number no one holds yet: it joins the person without a number, who takes the number ...
    const id = generateIdNumber('510104', '1971-05-06', 72, 'F');
    const [l] = await link([mention({ name: '唐丽华', idNumber: id, phone: '13688880001', sourceTable: 'petition.petitions', department: 'PETITION' })]);
    expect(l!.personId).toBe(early!.personId);
    expect(l!.method).toBe('scored');
    expect((await person(early!.personId)).id_number).toBe(id);
    // ... never the holder of the other number, however well the rest agrees.
    expect(l!.personId).not.toBe(holder!.personId);
    expect((await person(holder!.personId)).id_number).toBe(other);
  });

  it('a valid number held by a known person links by number and still absorbs a person without one it recognises', async () => {
    const id = generateIdNumber('510104', '1955-12-01', 33, 'M');
    const [registered] = await link([mention({ name: '邓建平', idNumber: id, sourceTable: 'police.household_registrations', department: 'POLICE' })]);
    // Written down without the number (name, birth date, phone): too little against the register's person alone.
    const [visit] = await link([mention({ name: '邓建平', birthDate: '1955-12-01', phone: '13500002222', sourceTable: 'civil.care_services' })]);
    expect(visit!.personId).not.toBe(registered!.personId);
    // A record with the number, the birth date and the phone: linked by number, and the visit's person is absorbed.
    const [later] = await link([mention({ name: '邓建平', idNumber: id, phone: '13500002222' })]);
    expect(later!.personId).toBe(registered!.personId);
    expect(later!.method).toBe('id_number');
    expect((await person(visit!.personId)).merged_into).toBe(registered!.personId);
    // The same record again: the same person, nothing new.
    const [replayed] = await link([mention({ name: '邓建平', birthDate: '1955-12-01', phone: '13500002222', sourceTable: 'civil.care_services', recordId: (await db.pool.query(
      `SELECT record_id FROM core.person_records WHERE source_table = 'civil.care_services' AND name = '邓建平'`)).rows[0].record_id })]);
    expect(replayed!.personId).toBe(registered!.personId);
    expect(replayed!.created).toBe(false);
  });

  it('finds persons without a number as well when a batch has more keys to look up than their table has rows (one pass instead of probes)', async () => {
    const id = generateIdNumber('510104', '1962-03-09', 51, 'F');
    const [visit] = await link([mention({ name: '蒋秀芬', birthDate: '1962-03-09', phone: '13500004444', sourceTable: 'civil.care_services' })]);
    const [other] = await link([mention({ name: '蒋秀芳', birthDate: '1962-09-03', phone: '13500004445', sourceTable: 'civil.care_services' })]);
    // The table of persons without a number holds a page; 40 mentions with numbers bring a few hundred keys.
    const pages = Number((await db.pool.query(`SELECT pg_relation_size('core.person_open_keys') / 8192 AS n`)).rows[0].n);
    const crowd = Array.from({ length: 40 }, (_, i) => mention({ name: `路人${i}`, idNumber: generateIdNumber('510105', `1980-01-${String(1 + (i % 28)).padStart(2, '0')}`, 100 + i, 'M'), phone: `1390000${String(i).padStart(4, '0')}` }));
    const keys = new Set(crowd.flatMap((m) => lookupKeys(personFeatures(m, null))));
    expect(keys.size).toBeGreaterThan(pages * 16);
    const links = await link([...crowd, mention({ name: '蒋秀芬', idNumber: id, phone: '13500004444' })]);
    const mine = links[links.length - 1]!;
    // It joins the person without a number it recognises, who takes the number; the other stays apart.
    expect(mine.personId).toBe(visit!.personId);
    expect((await person(visit!.personId)).id_number).toBe(id);
    expect(mine.personId).not.toBe(other!.personId);
  });

  it('looks only for the keys that persons without a number have, when their keys are fewer than the batch\'s mentions', async () => {
    const id = generateIdNumber('510104', '1958-07-21', 61, 'M');
    const [visit] = await link([mention({ name: '覃国强', birthDate: '1958-07-21', phone: '13500006666', sourceTable: 'civil.care_services' })]);
    const openKeys = Number((await db.pool.query('SELECT count(*) AS n FROM core.person_open_keys')).rows[0].n);
    const crowd = Array.from({ length: openKeys + 10 }, (_, i) => mention({ name: `行人${i}`, idNumber: generateIdNumber('510105', '1983-02-03', 200 + i, 'F') }));
    const { links, sent } = await linkSeeingOrphanKeys([...crowd, mention({ name: '覃国强', idNumber: id, phone: '13500006666' })]);
    // Found and given the number, as before ...
    expect(links[links.length - 1]!.personId).toBe(visit!.personId);
    expect((await person(visit!.personId)).id_number).toBe(id);
    // ... by the keys the table has: none of the crowd's (no one without a number shares them), the visit's that match.
    expect(sent).toHaveLength(1);
    const looked = sent[0]!;
    const stored = new Set((await db.pool.query<{ key: string }>('SELECT key FROM core.person_open_keys')).rows.map((r) => r.key));
    const crowdKeys = new Set(crowd.flatMap((m) => lookupKeys(personFeatures(m, null))));
    expect(crowdKeys.size).toBeGreaterThan(0);
    expect(looked).toContain('ph:13500006666');
    expect(looked.every((k) => stored.has(k))).toBe(true);
    expect(looked.filter((k) => crowdKeys.has(k))).toEqual([]);
    // A batch without ID numbers has nothing to look up there by them, and does not read the table.
    const visits = Array.from({ length: 20 }, (_, i) => mention({ name: `访客${i}`, birthDate: '1950-01-02', sourceTable: 'civil.care_services' }));
    expect((await linkSeeingOrphanKeys(visits)).openKeyReads).toBe(0);
    expect((await linkSeeingOrphanKeys([mention({ name: '覃国强', idNumber: id })])).openKeyReads).toBe(1);
  });

  it('looks up a key of a person without a number that holds the old separator like any other', async () => {
    const id = generateIdNumber('510104', '1949-11-30', 81, 'F');
    // A department's group key with U+001F in it (lists of keys once went as one text joined by it).
    const [visit] = await link([mention({ name: '韦秀英', birthDate: '1949-11-30', phone: '13500007777', groupKey: 'CIVIL_AFFAIRS:care:站\u001f1', sourceTable: 'civil.care_services' })]);
    const openKeys = Number((await db.pool.query('SELECT count(*) AS n FROM core.person_open_keys')).rows[0].n);
    const crowd = Array.from({ length: openKeys + 10 }, (_, i) => mention({ name: `过客${i}`, idNumber: generateIdNumber('510105', '1984-04-05', 300 + i, 'M') }));
    const { links, sent } = await linkSeeingOrphanKeys([...crowd, mention({ name: '韦秀英', idNumber: id, phone: '13500007777', groupKey: 'CIVIL_AFFAIRS:care:站\u001f1' })]);
    expect(links[links.length - 1]!.personId).toBe(visit!.personId);
    expect((await person(visit!.personId)).id_number).toBe(id);
    // Only keys the table has went, the group key among them; none of the crowd's.
    const crowdKeys = new Set(crowd.flatMap((m) => lookupKeys(personFeatures(m, null))));
    expect(sent).toHaveLength(1);
    expect(sent[0]!.some((k) => k.includes('\u001f'))).toBe(true);
    expect(sent[0]!.filter((k) => crowdKeys.has(k))).toEqual([]);
  });

  it('writes a new person with the residence of the first address the batch gives, and sets it once on a known person without one', async () => {
    const id = generateIdNumber('510104', '1988-08-18', 44, 'M');
    const [a, b] = await link([
      mention({ name: '龙飞', idNumber: id, address: '锦江区永丰街38号2栋1单元101室' }),
      mention({ name: '龙飞', idNumber: id, address: '锦江区永丰街38号1栋1单元101室', sourceTable: 'civil.care_services' }),
    ]);
    expect(b!.personId).toBe(a!.personId);
    const first = await person(a!.personId);
    expect(first.grid_code).toBe(GRID_B);
    const [place] = await withTransaction(db.pool, (c) => linkPlaces(c, [{ ref: 'p', address: '锦江区永丰街38号2栋1单元101室' }]));
    expect(first.residence_place_id).toBe(place!.placeId);

    // Known without an address, then a record with one: the UPDATE path.
    const id2 = generateIdNumber('510104', '1990-09-19', 46, 'F');
    const [c] = await link([mention({ name: '龙霞', idNumber: id2 })]);
    expect((await person(c!.personId)).residence_place_id).toBeNull();
    await link([mention({ name: '龙霞', idNumber: id2, address: '锦江区永丰街38号1栋2单元202室' })]);
    const set = await person(c!.personId);
    expect(set.residence_place_id).not.toBeNull();
    expect(set.grid_code).toBe(GRID_A);
    // A later address does not move it.
    await link([mention({ name: '龙霞', idNumber: id2, address: '锦江区永丰街38号2栋2单元202室' })]);
    expect(await person(c!.personId)).toEqual(set);
  });

  it('redoes the writes with their residences when a writer outside linking took a new person\'s number meanwhile', async () => {
    // No batch places are given, so the residences' places are linked on the batch's own connection; the unique
    // violation rolls the batch's writes back to their savepoint and they are written again one by one.
    const idNumber = generateIdNumber('510104', '1977-07-17', 61, 'M');
    const { outsider, linked: [a, b] } = await withOutsiderPerson(db.pool, idNumber, '简宁', () => link([
      mention({ name: '简宁', idNumber, address: '锦江区永丰街38号1栋4单元401室' }),
      mention({ name: '简安', birthDate: '1992-02-12', phone: '13900006666', address: '锦江区永丰街38号2栋4单元402室' }),
    ]));
    expect(a!.personId).toBe(outsider);
    expect(b!.created).toBe(true);
    // Both residences are places that exist: the one meant for the lost new person went to the outsider's person.
    const homes = await db.pool.query<{ id: string; grid_code: string | null }>(
      `SELECT p.id, p.grid_code FROM core.persons p JOIN core.places pl ON pl.id = p.residence_place_id WHERE p.id = ANY($1::uuid[])`,
      [[outsider, b!.personId]]);
    expect(Object.fromEntries(homes.rows.map((h) => [h.id, h.grid_code]))).toEqual({ [outsider]: GRID_A, [b!.personId]: GRID_B });
  });

  it('makes the persons\' write savepoints only after the batch\'s places, linked on the same connection, are done', async () => {
    // No pool beside: the places are linked on the batch's connection, overlapped with person linking, and the
    // persons carry no address (their writes need no place). A writer outside linking takes the new person's number,
    // so the writes fall back to one by one (savepoints awaited before their release). A place-linking savepoint made
    // between one of those and its release would be destroyed by the release (or rolled back with the rollback).
    const idNumber = generateIdNumber('510104', '1979-09-19', 71, 'F');
    const scenes = Array.from({ length: 400 }, (_, i) => ({ ref: `scene-${i}`, address: `锦江区永丰街${100 + i}号${1 + (i % 3)}栋1单元101室` }));
    const sent: string[] = [];
    const { outsider, linked } = await withOutsiderPerson(db.pool, idNumber, '秦岚', () => withTransaction(db.pool, (c) => {
      const query = c.query.bind(c) as (...args: unknown[]) => unknown;
      (c as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
        const q = args[0];
        sent.push(typeof q === 'string' ? q : String((q as { text?: string }).text ?? (q as { constructor: { name: string } }).constructor.name));
        return query(...args);
      };
      return linkBatch(c, scenes, [mention({ name: '秦岚', idNumber })]);
    }));
    expect(linked.persons[0]!.personId).toBe(outsider);
    expect(linked.places.filter((p) => p.placeId)).toHaveLength(scenes.length);
    const placeStatements = sent.map((t, i) => (/tl_places|core\.places|core\.buildings/.test(t) ? i : -1)).filter((i) => i >= 0);
    const firstWrite = sent.findIndex((t) => t.includes('SAVEPOINT tl_link_writes'));
    expect(placeStatements.length).toBeGreaterThan(0);
    expect(sent.some((t) => t.includes('SAVEPOINT tl_persons'))).toBe(true);
    expect(firstWrite).toBeGreaterThan(Math.max(...placeStatements));
  });

  it('links the same whether the batch was prepared ahead or not', async () => {
    // Two batches alike in shape, unrelated to each other (other names, dates, phones, addresses).
    const batch = (name: string, year: string, d: string) => [
      mention({ name, idNumber: generateIdNumber('510104', `${year}-01-02`, 50, 'F'), address: `锦江区永丰街38号1栋3单元30${d}室` }),
      mention({ name, birthDate: `${year}-02-01`, phone: `1390000000${d}`, sourceTable: 'petition.petitions', department: 'PETITION' }),
      mention({ name, phone: `1390000000${d}`, groupKey: `CIVIL_AFFAIRS:household:${d}` }),
    ];
    const plainBatch = batch('钟秀兰', '1961', '1');
    const plain = await link(plainBatch);
    const preparedBatch = batch('蒋国华', '1972', '2');
    await prepareMentions(db.pool, preparedBatch, preparedBatch.filter((m) => m.address).map((m) => ({ ref: m.ref, address: m.address! })));
    expect(preparedCount()).toBe(3);
    const ahead = await link(preparedBatch);
    // The batch took the results prepared for it.
    expect(preparedCount()).toBe(0);
    // Persons by their position in the batch (the ids differ between the two batches).
    const at = (ls: typeof plain, id: unknown) => ls.findIndex((x) => x.personId === id);
    const shape = (ls: typeof plain) => ls.map((l) => [at(ls, l.personId), l.method, l.score,
      { ...l.evidence, ...('candidate' in l.evidence ? { candidate: at(ls, l.evidence.candidate) } : {}) }, l.created]);
    expect(shape(ahead)).toEqual(shape(plain));
    // The features stored with each link are those of an unprepared batch.
    const stored = async (ms: PersonMention[]) => (await db.pool.query(
      `SELECT sex, phone IS NOT NULL AS phone, name_pinyin IS NOT NULL AS pinyin, id_number IS NOT NULL AS id, place_key IS NOT NULL AS place, method
         FROM core.person_records WHERE record_id = ANY($1::uuid[]) ORDER BY array_position($1::uuid[], record_id)`,
      [ms.map((m) => m.recordId)])).rows;
    expect(await stored(preparedBatch)).toEqual(await stored(plainBatch));
  });

  it('does not write a place a batch does not change, and still writes one it does', async () => {
    const address = '锦江区永丰街38号2栋3单元303室';
    const [first] = await withTransaction(db.pool, (c) => linkPlaces(c, [{ ref: 'a', address }]));
    const version = async () => (await db.pool.query('SELECT xmin::text AS v, xmax::text AS locked_by, lon FROM core.places WHERE id = $1', [first!.placeId])).rows[0];
    const before = await version();
    const [again] = await withTransaction(db.pool, (c) => linkPlaces(c, [{ ref: 'b', address: ` ${address} ` }, { ref: 'c', address: '锦江区永丰街38号1栋3单元303室' }]));
    expect(again).toEqual({ ...first, ref: 'b' });
    // Not even locked (an upsert that changes nothing still locks its row: xmax).
    expect(await version()).toEqual({ ...before, locked_by: '0' });
    // A first point for the place: written.
    const [located] = await withTransaction(db.pool, (c) => linkPlaces(c, [{ ref: 'd', address, lon: 104.015, lat: 30.605 }]));
    expect(located!.placeId).toBe(first!.placeId);
    const after = await version();
    expect(after.v).not.toBe(before.v);
    expect(after.lon).toBe(104.015);
  });
});
