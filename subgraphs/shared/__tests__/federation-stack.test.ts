import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { composeServices } from '@apollo/composition';
import { buildSubgraphSchema } from '@apollo/subgraph';
import Fastify, { type FastifyInstance } from 'fastify';
import mercurius from 'mercurius';
import { parse } from 'graphql';

/**
 * Proof of the stack the hub is built on: Mercurius serving a Federation 2 schema built by
 * `@apollo/subgraph`'s buildSubgraphSchema (not @mercuriusjs/federation, which is Federation v1), composed
 * ahead of time by @apollo/composition and planned across two subgraphs by @apollo/gateway.
 */
const link = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable"])';

const peopleSdl = `${link}
type Query { people: [Person!]! }
type Person @key(fields: "id") { id: ID! name: String! }`;

const petitionsSdl = `${link}
type Person @key(fields: "id") { id: ID! petitions: [String!]! }`;

const names: Record<string, string> = { p1: '张伟', p2: '王芳' };

async function serve(sdl: string, resolvers: Record<string, unknown>): Promise<{ app: FastifyInstance; url: string }> {
  const schema = buildSubgraphSchema([{ typeDefs: parse(sdl), resolvers: resolvers as never }]);
  const app = Fastify();
  await app.register(mercurius, { schema, path: '/graphql' });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, url: `${address}/graphql` };
}

describe('Federation 2 on Mercurius', () => {
  let people: { app: FastifyInstance; url: string };
  let petitions: { app: FastifyInstance; url: string };

  beforeAll(async () => {
    people = await serve(peopleSdl, {
      Query: { people: () => Object.keys(names).map((id) => ({ id, name: names[id] })) },
      Person: { __resolveReference: (ref: { id: string }) => ({ id: ref.id, name: names[ref.id] }) },
    });
    petitions = await serve(petitionsSdl, {
      Person: {
        __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
        petitions: (person: { id: string }) => [`${person.id}-信访-1`],
      },
    });
  });
  afterAll(async () => { await people.app.close(); await petitions.app.close(); });

  async function post(url: string, query: string, variables?: unknown) {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
    return (await res.json()) as { data?: any; errors?: unknown[] };
  }

  it('answers _service { sdl } with the Federation 2 link', async () => {
    const res = await post(people.url, '{ _service { sdl } }');
    expect(res.errors).toBeUndefined();
    expect(res.data._service.sdl).toContain('@link(url: "https://specs.apollo.dev/federation/v2.7"');
    expect(res.data._service.sdl).toContain('type Person');
  });

  it('answers _entities', async () => {
    const res = await post(petitions.url,
      'query($r: [_Any!]!) { _entities(representations: $r) { ... on Person { id petitions } } }',
      { r: [{ __typename: 'Person', id: 'p1' }, { __typename: 'Person', id: 'p2' }] });
    expect(res.errors).toBeUndefined();
    expect(res.data._entities).toEqual([{ id: 'p1', petitions: ['p1-信访-1'] }, { id: 'p2', petitions: ['p2-信访-1'] }]);
  });

  it('composes both subgraphs and the gateway plans a query across them', async () => {
    const composed = composeServices([
      { name: 'people', url: people.url, typeDefs: parse(peopleSdl) },
      { name: 'petitions', url: petitions.url, typeDefs: parse(petitionsSdl) },
    ]);
    expect(composed.errors).toBeUndefined();
    const gateway = new ApolloGateway({ supergraphSdl: composed.supergraphSdl! });
    const server = new ApolloServer({ gateway });
    await server.start();
    try {
      const res = await server.executeOperation({ query: '{ people { id name petitions } }' });
      const body = res.body.kind === 'single' ? res.body.singleResult : undefined;
      expect(body?.errors).toBeUndefined();
      expect(body?.data).toEqual({ people: [
        { id: 'p1', name: '张伟', petitions: ['p1-信访-1'] },
        { id: 'p2', name: '王芳', petitions: ['p2-信访-1'] },
      ] });
    } finally {
      await server.stop();
    }
  });
});
