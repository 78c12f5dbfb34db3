import { buildSchema, isObjectType } from 'graphql';
import { composeSupergraph, readCommittedSupergraph, subgraphSdls } from '../supergraph';

describe('supergraph', () => {
  it('is up to date with the subgraphs\' SDL files (run `npm run schema:compose` after changing any *.graphql)', () => {
    const composed = composeSupergraph();
    const committed = readCommittedSupergraph();
    if (composed !== committed) {
      throw new Error('schema/supergraph.graphql is stale: run `npm run schema:compose` and commit schema/supergraph.graphql');
    }
  });

  it('carries the contract\'s root fields and types', () => {
    const schema = buildSchema(readCommittedSupergraph(), { assumeValidSDL: true });
    const query = schema.getQueryType()!;
    for (const field of ['person', 'persons', 'place', 'event', 'events', 'grid', 'eventStats']) expect(query.getFields()[field]).toBeDefined();
    const person = schema.getType('Person');
    expect(isObjectType(person)).toBe(true);
    const personFields = Object.keys((person as import('graphql').GraphQLObjectType).getFields());
    for (const f of ['id', 'name', 'idNumber', 'sex', 'birthDate', 'phone', 'residence', 'grid', 'events', 'household', 'policeIncidents',
      'mediationCases', 'correction', 'subsidies', 'petitions', 'sourceRecords']) expect(personFields).toContain(f);
    expect(Object.keys((schema.getType('EventStatsRow') as import('graphql').GraphQLObjectType).getFields()).sort()).toEqual(['closed', 'closureRate', 'count', 'key']);
  });

  it('reports composition errors by code and subgraph', () => {
    const broken = subgraphSdls().map((s) => (s.name === 'police' ? { ...s, sdl: s.sdl.replace('householdRegistrations: [HouseholdRegistration!]!', 'address: Int') } : s));
    expect(() => composeSupergraph(broken)).toThrow(/Supergraph composition failed:[\s\S]*FIELD_TYPE_MISMATCH/);
  });
});
