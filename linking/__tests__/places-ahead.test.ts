import { withTransaction } from '../../platform/db';
import { createTestDatabase, type TestDatabase } from '../../test/support/db';
import type { BesidePool } from '../beside';
import { linkBatch, linkPlacesAhead } from '../index';
import type { PlaceMention } from '../types';
import { GRID_B, loadTestGrids, mentionsOf } from './fixtures';

/**
 * A pipeline's next batch has its places linked ahead, beside the batch in flight (linkBatch's nextPlaces,
 * placesAhead; linkPlacesAhead): once the batch's own places are committed, so that they are linked from what it
 * wrote, as one batch later; used by the next batch only for the very mentions they were linked for; and when they
 * cannot be linked ahead, the next batch links them itself.
 */
describe('linking: places linked ahead of their batch', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('placesahead');
    await loadTestGrids(db.pool);
  });
  afterAll(async () => { await db.drop(); });

  const placeCount = async (road: string, number: string) =>
    (await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM core.places WHERE road = $1 AND number = $2', [road, number])).rows[0]!.n;

  it('links the next batch\'s places beside this one, from what this batch wrote, and the next batch uses them', async () => {
    const mention = mentionsOf('CIVIL_AFFAIRS', 'civil.services');
    // Batch 1 places building 70-1 in GRID_B by its coordinates; batch 2 has a room of that building without them,
    // whose grid only batch 1's place can give (河滨社区 has two grids): linked ahead before batch 1's places were
    // committed, it would get the community's code instead.
    const first: PlaceMention[] = [{ ref: 'p1', address: '锦江区河滨社区永丰街70号1栋1单元101室', lon: 104.015, lat: 30.605 }];
    const second: PlaceMention[] = [{ ref: 'p2', address: '锦江区永丰街70号1幢1单元102' }];
    const one = await withTransaction(db.pool, (c) => linkBatch(c, first, [mention({ name: '严明', birthDate: '1950-01-01', address: first[0]!.address! })],
      { besidePool: db.pool, nextPlaces: second }));
    expect(one.places[0]).toMatchObject({ gridCode: GRID_B });
    expect(one.placesAhead?.mentions).toBe(second);
    const ahead = await one.placesAhead!.links;
    expect(ahead).toHaveLength(1);
    expect(ahead![0]).toMatchObject({ ref: 'p2', gridCode: GRID_B, status: 'parsed' });
    const person = mention({ name: '严芳', birthDate: '1952-02-02', address: second[0]!.address! });
    const two = await withTransaction(db.pool, (c) => linkBatch(c, second, [person], { besidePool: db.pool, placesAhead: one.placesAhead! }));
    // The links made ahead are the batch's (not linked again), and the person lives there.
    expect(two.places).toBe(ahead);
    const { rows } = await db.pool.query('SELECT residence_place_id, grid_code FROM core.persons WHERE id = $1', [two.persons[0]!.personId]);
    expect(rows[0]).toEqual({ residence_place_id: ahead![0]!.placeId, grid_code: GRID_B });
  });

  it('waits for the batch before: nothing is linked until its places are', async () => {
    let release!: () => void;
    const before = new Promise<void>((resolve) => { release = resolve; });
    const ahead = linkPlacesAhead(db.pool, [{ ref: 'w', address: '锦江区河滨社区永丰街71号2栋1单元201室' }], before);
    await new Promise((r) => setTimeout(r, 200));
    expect(await placeCount('永丰街', '71')).toBe(0);
    release();
    const links = await ahead.links;
    expect(links).toHaveLength(1);
    expect(await placeCount('永丰街', '71')).toBe(1);
  });

  it('is not used for other mentions than its own, and a batch whose places could not be linked ahead links them itself', async () => {
    const mine: PlaceMention[] = [{ ref: 'a', address: '锦江区河滨社区永丰街72号1栋1单元101室' }];
    const other = linkPlacesAhead(db.pool, [{ ref: 'b', address: '锦江区河滨社区永丰街73号1栋1单元101室' }]);
    await other.links;
    const withOther = await withTransaction(db.pool, (c) => linkBatch(c, mine, [], { besidePool: db.pool, placesAhead: other }));
    expect(withOther.places).toHaveLength(1);
    expect(withOther.places[0]).toMatchObject({ ref: 'a', status: 'parsed' });
    expect(withOther.places).not.toBe(await other.links);
    // No connection free beside: linked ahead is null, and the batch links its places on its own connection.
    const busy: BesidePool = { connect: () => new Promise(() => undefined) };
    const late: PlaceMention[] = [{ ref: 'c', address: '锦江区河滨社区永丰街74号1栋1单元101室' }];
    const none = linkPlacesAhead(busy, late);
    expect(await none.links).toBeNull();
    const linked = await withTransaction(db.pool, (c) => linkBatch(c, late, [], { placesAhead: none }));
    expect(linked.places[0]).toMatchObject({ ref: 'c', status: 'parsed' });
    expect(await placeCount('永丰街', '74')).toBe(1);
  });
});
