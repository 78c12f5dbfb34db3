import { buildSchema, type GraphQLInputType } from 'graphql';
import { createLogger } from '../../../platform/logger';
import { startGraphStack, type GraphStack } from '../../../test/fixtures/graph-stack';
import { placeholderOf, warmQueryPlans } from '../plan-cache-warmup';

describe('query-plan warm-up', () => {
  let stack: GraphStack;
  beforeAll(async () => {
    stack = await startGraphStack({ label: 'warmup', redis: false });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('plans every known query with placeholder variables of the right types, and never runs a mutation', async () => {
    const schema = (stack.gateway.apollo as unknown as { internals: { state: { schemaManager: { getSchemaDerivedData(): { schema: import('graphql').GraphQLSchema } } } } })
      .internals.state.schemaManager.getSchemaDerivedData().schema;
    const seen: string[] = [];
    const result = await warmQueryPlans({
      schema, log: createLogger({ level: 'silent' }),
      execute: async (request, identity) => {
        seen.push(request.operationName ?? '');
        return stack.gateway.execute(request, identity) as never;
      },
      operations: [
        'query PersonFull($id: ID!) { person(id: $id) { name subsidies { subsidyNo } petitions { petitionNo } } }',
        'query Stats($f: EventFilter, $by: [EventStatsDimension!]!) { eventStats(filter: $f, groupBy: $by) { key count } }',
        'query Page($grid: String!, $first: Int) { events(filter: { gridCode: $grid }, first: $first) { totalCount } }',
        'mutation Del($id: ID!) { deleteConnector(id: $id) }',
        'query Broken { nope }',
      ],
    });
    expect(result).toEqual({ warmed: 3, skipped: 1, failed: 1 });
    expect(seen).toEqual(['PersonFull', 'Stats', 'Page', 'Broken']);
  });

  it('makes placeholders that satisfy required input fields', () => {
    const schema = buildSchema(`enum E { A B } input I { a: Int! b: String c: [E!]! d: E! } type Query { x(i: I!): Int }`);
    const type = schema.getQueryType()!.getFields().x!.args[0]!.type as GraphQLInputType;
    expect(placeholderOf(type)).toEqual({ a: 0, c: [], d: 'A' });
  });
});
