import { generateIdNumber } from '../../domain/id-number';
import { createPool, withTransaction } from '../../platform/db';
import { createTestDatabase, type TestDatabase } from '../../test/support/db';
import { parseAddress } from '../address-parser';
import { buildGazetteer, gridAt, pointInRing } from '../gazetteer';
import { linkBatch, linkPersons, linkPlaces, placesByAddress } from '../index';
import { loadAddressRegister, setResidences, type RegisterBuilding } from '../place-linking';
import type { PlaceMention } from '../types';
import { GRID_A, GRID_B, GRID_SINGLE, GRID_VILLAGE, loadTestGrids } from './fixtures';

/**
 * Place linking with a standard-address register (core.buildings): an address resolves to its building and
 * so to its grid, however it is written, without coordinates; an address the register does not hold falls back
 * to the community and says so.
 */
const REGISTER: RegisterBuilding[] = [
  // 河滨社区 has two grids: only the register (or coordinates) can tell which one a building is in.
  { sourceId: 'B1', address: '成都市锦江区东湖街道河滨社区永丰街38号1栋', gridCode: GRID_A, compound: '翠湖苑', lon: 104.005, lat: 30.605 },
  { sourceId: 'B2', address: '成都市锦江区东湖街道河滨社区永丰街38号2栋', gridCode: GRID_B, compound: '翠湖苑', lon: 104.015, lat: 30.605 },
  { sourceId: 'B3', address: '成都市锦江区东湖街道河滨社区滨江路7号1栋', gridCode: GRID_B, compound: '滨江华庭', lon: 104.016, lat: 30.606 },
  { sourceId: 'H1', address: '成都市成华区跳蹬河街道跳蹬村1组12号', gridCode: GRID_VILLAGE, lon: 104.105, lat: 30.705 },
  // The same road + number + building in two districts: without the district the building is ambiguous.
  { sourceId: 'B4', address: '成都市锦江区东湖街道河滨社区光华街9号1栋', gridCode: GRID_A, compound: '金色花园' },
  { sourceId: 'B5', address: '成都市成华区跳蹬河街道跳蹬村光华街9号1栋', gridCode: GRID_VILLAGE },
];

describe('place linking with the standard-address register', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('linkregister');
    await loadTestGrids(db.pool);
  });
  afterAll(async () => { await db.drop(); });

  const link = (ms: PlaceMention[]) => withTransaction(db.pool, (c) => linkPlaces(c, ms));

  it('loads the register idempotently and rejects rows it cannot resolve, with the reason', async () => {
    const bad: RegisterBuilding[] = [
      { sourceId: 'X1', address: '火车站对面', gridCode: GRID_A },
      { sourceId: 'X2', address: '成都市锦江区东湖街道河滨社区永丰街40号1栋', gridCode: '510104018005099' },
      { sourceId: 'X3', address: '锦江区永丰街38号1幢', gridCode: GRID_A },
      { sourceId: 'X4', address: '成都市锦江区东湖街道河滨社区永丰街41号', gridCode: GRID_A },
    ];
    const first = await loadAddressRegister(db.pool, [...REGISTER, ...bad]);
    expect(first.changed).toBe(REGISTER.length);
    expect(first.rejected.map((r) => [r.sourceId, r.reason])).toEqual([
      ['X1', expect.stringMatching(/does not resolve to a building/)],
      ['X2', expect.stringMatching(/grid 510104018005099 is not in core.grids/)],
      ['X3', 'same building as register row B1'],
      ['X4', expect.stringMatching(/without a building/)],
    ]);
    expect((await loadAddressRegister(db.pool, REGISTER)).changed).toBe(0);
    const { rows } = await db.pool.query(`SELECT building_key, house_key, compound_key, grid_code FROM core.buildings WHERE source_id = 'B1'`);
    expect(rows[0]).toEqual({ building_key: '510104|永丰街|38|1', house_key: '永丰街|38|1', compound_key: '510104018005|翠湖苑|1', grid_code: GRID_A });
  });

  it('resolves every variant of a dwelling to its building and so to its grid, without coordinates', async () => {
    const variants = [
      '成都市锦江区永丰街38号1栋2单元2202号',           // police: 号 for the room
      '锦江区河滨社区永丰街38号1幢2单元2202室',          // civil: 幢
      '东湖街道河滨社区永丰街38号1-2-2202',               // justice: dashed, no district
      '锦江区永丰街３８号１栋２单元２２０２室  ',          // full-width digits, trailing spaces
      '永丰街38号1幢2单元2202',                           // no district: road + number + building is unique
      '成都市永丰街38号1号楼2单元2202',                   // 号楼, city but no district
      '锦江区永丰街38号附1号2单元2202号',                 // 附N号 for the building
      '河滨社区翠湖苑一栋2单元2202',                      // the 小区 name instead of road and number
      '四川省成都市锦江区东湖街道河滨社区永丰街38号1栋2单元2202室',
    ];
    const links = await link(variants.map((address, i) => ({ ref: `v${i}`, address })));
    expect(new Set(links.map((l) => l.placeId)).size).toBe(1);
    expect(links.map((l) => l.gridCode)).toEqual(variants.map(() => GRID_A));
    expect(links.every((l) => l.status === 'parsed' && l.reason === undefined)).toBe(true);
    const { rows } = await db.pool.query(
      `SELECT p.norm_key, p.parse_error, b.source_id FROM core.places p JOIN core.buildings b ON b.id = p.building_id WHERE p.id = $1`, [links[0]!.placeId]);
    expect(rows).toEqual([{ norm_key: 'U|510104|永丰街|38|1|2|2202', parse_error: null, source_id: 'B1' }]);
    // The neighbouring building of the same compound is in the other grid of the community.
    const [other] = await link([{ ref: 'o', address: '河滨社区翠湖苑2幢1单元101' }]);
    expect(other!.gridCode).toBe(GRID_B);
    const [village] = await link([{ ref: 'h', address: '跳蹬河街道跳蹬村一组12号' }]);
    expect(village!.gridCode).toBe(GRID_VILLAGE);
  });

  it('falls back to the community for an address not in the register, and says so', async () => {
    const [twoGrids, oneGrid] = await link([
      { ref: 'n', address: '锦江区河滨社区永丰街99号1栋1单元101室' },
      { ref: 's', address: '锦江区东湖街道东湖社区东湖路3号1栋1单元101室' },
    ]);
    expect(twoGrids!.gridCode).toBe('510104018005'); // the community: it has two grids
    expect(twoGrids!.reason).toMatch(/^not in the standard address register; grid not determined: community 河滨社区 has 2 grids/);
    expect(oneGrid!.gridCode).toBe(GRID_SINGLE);
    expect(oneGrid!.reason).toBe('not in the standard address register; grid from its community (a single grid)');
    const { rows } = await db.pool.query('SELECT parse_status, parse_error, building_id FROM core.places WHERE id = $1', [twoGrids!.placeId]);
    expect(rows[0]).toMatchObject({ parse_status: 'parsed', parse_error: expect.stringMatching(/not in the standard address register/), building_id: null });
  });

  it('names the ambiguity of a building without its district that the register has in two districts', async () => {
    const [a] = await link([{ ref: 'a', address: '光华街9号1栋1单元101' }]);
    expect(a!.gridCode).toBeNull();
    expect(a!.reason).toMatch(/^district not recognised; road, number and building match 2 buildings of the standard address register/);
    const [b] = await link([{ ref: 'b', address: '锦江区光华街9号1栋1单元101' }]);
    expect(b!.gridCode).toBe(GRID_A);
  });

  it('sets a linked person\'s residence (and so their grid) to the place of the address their record gives, once', async () => {
    const mention = (ref: string, address: string) => ({
      ref, department: 'POLICE' as const, sourceTable: 't_hjxx', recordId: '00000000-0000-4000-8000-0000000000a' + ref, recordKey: ref,
      connectorId: '', idNumber: '510104199001011234', name: '张伟', sex: 'M' as const, birthDate: '1990-01-01', address,
    });
    const [l] = await withTransaction(db.pool, (c) => linkPersons(c, [mention('1', '河滨社区翠湖苑2幢3单元301')]));
    const { rows: [p] } = await db.pool.query(
      `SELECT pl.grid_code, b.source_id FROM core.persons p JOIN core.places pl ON pl.id = p.residence_place_id
         JOIN core.buildings b ON b.id = pl.building_id WHERE p.id = $1`, [l!.personId]);
    expect(p).toEqual({ grid_code: GRID_B, source_id: 'B2' });
    // The person belongs to the grid they live in: that is what lets the grid's worker see them.
    const { rows: [person] } = await db.pool.query('SELECT grid_code FROM core.persons WHERE id = $1', [l!.personId]);
    expect(person).toEqual({ grid_code: GRID_B });
    // A later record with another address does not move it (the first address found stays the residence).
    const changed = await withTransaction(db.pool, (c) => setResidences(c, [{ personId: l!.personId, address: '锦江区永丰街38号1栋1单元101室' }]));
    expect(changed).toBe(0);
  });

  it('takes a residence from the places the batch already linked, and links only the other addresses', async () => {
    const mention = (ref: string, address: string, idNumber: string) => ({
      ref, department: 'POLICE' as const, sourceTable: 't_hjxx', recordId: '00000000-0000-4000-8000-0000000000b' + ref, recordKey: ref,
      connectorId: '', idNumber, name: '李娜', sex: 'F' as const, birthDate: '1992-02-02', address,
    });
    const a = mention('1', '永丰街38号1栋2单元202', '510104199202021240');
    const b = mention('2', '滨江路7号1栋1单元101', '510104199202021267');
    const residenceOf = async (personId: string) => (await db.pool.query<{ residence_place_id: string; grid_code: string }>(
      'SELECT residence_place_id, grid_code FROM core.persons WHERE id = $1', [personId])).rows[0];
    const [la, lb, places] = await withTransaction(db.pool, async (c) => {
      // The batch's records' addresses, linked as places first (as the sync pipeline does).
      const placeMentions = [{ ref: 'p1', address: a.address }];
      const linked = await linkPlaces(c, placeMentions);
      // A place stands in for the first address: the residence must be that place, not a second linking of it.
      const known = placesByAddress(placeMentions, linked);
      const stand = (await c.query<{ id: string }>('SELECT id FROM core.places WHERE id <> $1 LIMIT 1', [linked[0]!.placeId])).rows[0];
      const hinted = new Map(known);
      if (stand) hinted.set(a.address, { ...linked[0]!, placeId: stand.id, gridCode: GRID_SINGLE });
      const [x, y] = await linkPersons(c, [a, b], { linkedPlaces: hinted });
      return [x!, y!, { linked, stand }] as const;
    });
    expect(places.stand).toBeDefined();
    expect(await residenceOf(la.personId)).toEqual({ residence_place_id: places.stand!.id, grid_code: GRID_SINGLE });
    // The address the batch had not linked is linked for the residence as before: its register building's grid.
    const other = await residenceOf(lb.personId);
    const { rows: [pl] } = await db.pool.query('SELECT p.grid_code, b.source_id FROM core.places p JOIN core.buildings b ON b.id = p.building_id WHERE p.id = $1', [other!.residence_place_id]);
    expect(pl).toEqual({ grid_code: GRID_B, source_id: 'B3' });
  });

  it('links a batch of places and persons together (linkBatch): residences from the batch places, failures after both settle', async () => {
    const mention = (ref: string, address: string, name: string, birthDate: string) => ({
      ref, department: 'POLICE' as const, sourceTable: 't_hjxx', recordId: '00000000-0000-4000-8000-0000000000c' + ref, recordKey: ref,
      connectorId: '', idNumber: generateIdNumber('510104', birthDate, 124 + Number(ref), 'F'), name, sex: 'F' as const, birthDate, address,
    });
    const a = mention('1', '锦江区永丰街38号2幢3单元301室', '王芳', '1990-03-03');
    const b = mention('2', '成都市成华区跳蹬河街道跳蹬村1组12号', '赵敏', '1987-11-21');
    const places = [{ ref: 'r1', address: a.address }, { ref: 'r2', address: b.address }, { ref: 'r3', address: '' }];
    const links = await withTransaction(db.pool, (c) => linkBatch(c, places, [a, b]));
    expect(links.places.map((l) => [l.ref, l.gridCode, l.status])).toEqual([['r1', GRID_B, 'parsed'], ['r2', GRID_VILLAGE, 'parsed'], ['r3', null, 'unparsed']]);
    expect(links.persons.map((l) => [l.ref, l.method, l.created])).toEqual([['1', 'new', true], ['2', 'new', true]]);
    // Each new person lives at the place its record's address was linked to in the same batch, in that place's grid.
    const { rows } = await db.pool.query<{ id: string; residence_place_id: string; grid_code: string }>(
      'SELECT id, residence_place_id, grid_code FROM core.persons WHERE id = ANY($1::uuid[]) ORDER BY grid_code', [links.persons.map((l) => l.personId)]);
    expect(rows.map((r) => [r.id, r.residence_place_id, r.grid_code]).sort()).toEqual([
      [links.persons[0]!.personId, links.places[0]!.placeId, GRID_B], [links.persons[1]!.personId, links.places[1]!.placeId, GRID_VILLAGE]].sort());
    // Replayed: the same persons and places, nothing new.
    const again = await withTransaction(db.pool, (c) => linkBatch(c, places, [a, b]));
    expect(again.persons.map((l) => [l.personId, l.created])).toEqual(links.persons.map((l) => [l.personId, false]));
    expect(again.places.map((l) => l.placeId)).toEqual(links.places.map((l) => l.placeId));
    // A place mention without a ref fails the batch with place linking's own error, once person linking (running
    // beside it on the connection) has settled too: the transaction then rolls back cleanly and the pool's
    // connection is usable (no statement of the batch arrives after the rollback).
    const c = mention('3', '锦江区永丰街38号2幢3单元302室', '孙丽', '1979-06-30');
    await expect(withTransaction(db.pool, (cl) => linkBatch(cl, [{ ref: '', address: c.address }], [c])))
      .rejects.toMatchObject({ code: 'TL_ERR_BAD_USER_INPUT', message: expect.stringMatching(/place mention 0 needs a ref/) });
    const { rows: none } = await db.pool.query('SELECT 1 FROM core.person_records WHERE record_id = $1', [c.recordId]);
    expect(none).toEqual([]);
    expect((await db.pool.query('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);
  });

  it('links a batch\'s places beside it when given a pool: committed at once, kept when the batch rolls back, in the batch when no connection is free', async () => {
    const mention = (ref: string, address: string, name: string, birthDate: string) => ({
      ref, department: 'POLICE' as const, sourceTable: 't_hjxx', recordId: '00000000-0000-4000-8000-0000000000d' + ref, recordKey: ref,
      connectorId: '', idNumber: generateIdNumber('510104', birthDate, 224 + Number(ref), 'M'), name, sex: 'M' as const, birthDate, address,
    });
    const placeExists = async (id: string | null | undefined) => (await db.pool.query('SELECT 1 FROM core.places WHERE id = $1', [id])).rowCount === 1;
    const personOf = async (recordId: string) => (await db.pool.query<{ person_id: string; residence_place_id: string }>(
      `SELECT pr.person_id, p.residence_place_id FROM core.person_records pr JOIN core.persons p ON p.id = pr.person_id
        WHERE pr.record_id = $1`, [recordId])).rows[0];

    // Beside: the place is committed while the batch is still open (seen from another connection), the person not.
    // Three connections idle in the pool (the batch's, and two beside it: its places and its keys), so that "free at
    // once" does not depend on how fast a new connection comes up (it took longer than 50 ms in CI once).
    await db.warm(3);
    const a = mention('1', '锦江区永丰街38号1栋2单元1201室', '周强', '1981-05-06');
    const during: { place?: string | null; placeSeen?: boolean; personSeen?: boolean } = {};
    const undone = new Error('batch rolled back');
    await expect(withTransaction(db.pool, async (c) => {
      const links = await linkBatch(c, [{ ref: 'p1', address: a.address }], [a], { besidePool: db.pool });
      during.place = links.places[0]!.placeId;
      during.placeSeen = await placeExists(during.place);
      during.personSeen = (await personOf(a.recordId)) !== undefined;
      throw undone;
    })).rejects.toBe(undone);
    expect(during).toEqual({ place: expect.any(String), placeSeen: true, personSeen: false });
    // The batch rolled back: its person is gone, its place stays; the replay finds that place and lives there.
    expect(await personOf(a.recordId)).toBeUndefined();
    const kept = during.place!;
    expect(await placeExists(kept)).toBe(true);
    const replay = await withTransaction(db.pool, (c) => linkBatch(c, [{ ref: 'p1', address: a.address }], [a], { besidePool: db.pool }));
    expect(replay.places[0]!.placeId).toBe(kept);
    expect(await personOf(a.recordId)).toEqual({ person_id: replay.persons[0]!.personId, residence_place_id: kept });

    // No connection free at once (a pool of one, held by the batch): the places are linked in the batch, and go
    // with it when it rolls back.
    const single = createPool(db.url, { max: 1, applicationName: 'test-linkregister-single' });
    try {
      const b = mention('2', '锦江区永丰街38号1栋2单元1202室', '吴刚', '1975-12-01');
      await expect(withTransaction(single, async (c) => {
        const links = await linkBatch(c, [{ ref: 'p2', address: b.address }], [b], { besidePool: single });
        during.place = links.places[0]!.placeId;
        expect(during.place).toEqual(expect.any(String));
        expect(await placeExists(during.place)).toBe(false);
        throw undone;
      })).rejects.toBe(undone);
      expect(await placeExists(during.place)).toBe(false);
    } finally {
      await single.end();
    }

    // A mention the place linker refuses fails beside, then in the batch, where its error is reported.
    const c = mention('3', '锦江区永丰街38号1栋2单元1203室', '郑伟', '1969-02-14');
    await expect(withTransaction(db.pool, (cl) => linkBatch(cl, [{ ref: '', address: c.address }], [c], { besidePool: db.pool })))
      .rejects.toMatchObject({ code: 'TL_ERR_BAD_USER_INPUT', message: expect.stringMatching(/place mention 0 needs a ref/) });
    expect(await personOf(c.recordId)).toBeUndefined();
  });

  it('puts coordinates in the grid whose polygon holds them, before the register', async () => {
    const g = buildGazetteer((await db.pool.query('SELECT code, name, level, parent_code, polygon FROM core.grids')).rows);
    expect(gridAt(g, 104.005, 30.605)?.code).toBe(GRID_A);
    expect(gridAt(g, 104.015, 30.609)?.code).toBe(GRID_B);
    expect(gridAt(g, 104.5, 30.605)).toBeUndefined();
    const ring = [[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]];
    expect(pointInRing(0.5, 0.5, ring)).toBe(true);
    expect(pointInRing(1.5, 0.5, ring)).toBe(false);
    const [p] = await link([{ ref: 'p', address: '锦江区河滨社区永丰街77号1栋1单元101室', lon: 104.015, lat: 30.605 }]);
    expect(p!.gridCode).toBe(GRID_B);
    expect(p!.reason).toBe('not in the standard address register; grid from its coordinates');
    expect(parseAddress('河滨社区翠湖苑3栋', g)).toMatchObject({ compound: '翠湖苑', building: '3', compoundKey: '510104018005|翠湖苑|3' });
  });
});
