import { dedupeRepresentations } from '../entity-dedupe';

describe('entity representation deduplication', () => {
  const zhang = { __typename: 'Person', id: 'p-zhang' };
  const li = { __typename: 'Person', id: 'p-li' };

  it('sends each distinct representation once and gives every occurrence its own copy of the answer', () => {
    const dedupe = dedupeRepresentations({ representations: [zhang, li, { ...zhang }, zhang], other: 1 })!;
    expect(dedupe.variables).toEqual({ representations: [zhang, li], other: 1 });
    expect([dedupe.asked, dedupe.sent]).toEqual([4, 2]);
    const answer = dedupe.expand({ data: { _entities: [{ petitions: [{ petitionNo: 'XF1' }] }, { petitions: [] }] } });
    const entities = answer.data!._entities as { petitions: unknown[] }[];
    expect(entities).toEqual([{ petitions: [{ petitionNo: 'XF1' }] }, { petitions: [] }, { petitions: [{ petitionNo: 'XF1' }] }, { petitions: [{ petitionNo: 'XF1' }] }]);
    // The gateway merges later fetches into each entity: occurrences must not share objects.
    expect(entities[2]).not.toBe(entities[0]);
    expect(entities[2]!.petitions).not.toBe(entities[0]!.petitions);
  });

  it('points _entities errors at the first occurrence and keeps null entities', () => {
    const dedupe = dedupeRepresentations({ representations: [li, zhang, zhang] })!;
    const answer = dedupe.expand({ data: { _entities: [null, { name: '张建国' }] }, errors: [{ path: ['_entities', 1, 'name'] }, { path: ['other'] }] });
    expect(answer.data!._entities).toEqual([null, { name: '张建国' }, { name: '张建国' }]);
    expect(answer.errors).toEqual([{ path: ['_entities', 1, 'name'] }, { path: ['other'] }]);
    const shifted = dedupeRepresentations({ representations: [zhang, zhang, li] })!;
    expect(shifted.expand({ data: { _entities: [{}, null] }, errors: [{ path: ['_entities', 1] }] }).errors).toEqual([{ path: ['_entities', 2] }]);
  });

  it('leaves fetches without duplicates, or without representations, alone', () => {
    expect(dedupeRepresentations({ representations: [zhang, li] })).toBeNull();
    expect(dedupeRepresentations({ id: 'x' })).toBeNull();
    expect(dedupeRepresentations(undefined)).toBeNull();
  });
});
