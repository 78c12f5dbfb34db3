import { ApolloServer, type ApolloServerPlugin, type BaseContext } from '@apollo/server';
import type { ValidationRule } from 'graphql';

/**
 * A small in-process schema shaped like the hub's graph (connections with `first`, plain lists, a recursive
 * Grid), so the gateway plugins can be tested on a real @apollo/server without the subgraphs.
 */
export const typeDefs = /* GraphQL */ `
  type Query {
    person(id: ID!): Person
    persons(first: Int = 20, after: String): PersonConnection!
    grid(code: String!): Grid
    hello: String
  }
  type PersonConnection { edges: [PersonEdge!]! totalCount: Int! }
  type PersonEdge { cursor: String! node: Person! }
  type Person { id: ID! name: String! idNumber: String events(first: Int): EventConnection! grid: Grid }
  type EventConnection { edges: [EventEdge!]! }
  type EventEdge { node: Event! }
  type Event { id: ID! title: String! participants: [Participant!]! }
  type Participant { role: String! person: Person! }
  type Grid { code: String! name: String! parent: Grid children: [Grid!]! }
`;

const grid = (code: string): Record<string, unknown> => ({ code, name: `网格${code}`, parent: () => grid(code.slice(0, -3) || '5101'), children: () => [] });
const person = (id: string) => ({
  id, name: '张三', idNumber: '110105199001010123', grid: grid('510104001001001'),
  events: () => ({ edges: [{ node: { id: 'e1', title: '邻里纠纷', participants: [] } }] }),
});

export const resolvers = {
  Query: {
    hello: () => 'world',
    person: (_: unknown, { id }: { id: string }) => person(id),
    persons: (_: unknown, { first }: { first: number }) => ({
      totalCount: first,
      edges: Array.from({ length: Math.min(first, 3) }, (_, i) => ({ cursor: String(i), node: person(`p${i}`) })),
    }),
    grid: (_: unknown, { code }: { code: string }) => grid(code),
  },
};

export function testServer<T extends BaseContext>(options: { plugins?: ApolloServerPlugin<T>[]; validationRules?: ValidationRule[]; introspection?: boolean; persistedQueries?: ConstructorParameters<typeof ApolloServer<T>>[0]['persistedQueries'] }): ApolloServer<T> {
  return new ApolloServer<T>({ typeDefs, resolvers, ...options });
}
