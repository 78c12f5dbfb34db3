import { buildSchema, execute, print, type GraphQLSchema } from 'graphql';
import type { Identity } from '../../security/identity';
import { PII_READ } from '../../security/identity';
import { canSeeGrid } from '../../security/scope';
import type { ExecuteAs } from '../subscriptions/entity-enricher';

/**
 * A small stand-in for the federated graph, for tests of the subscription server on its own http server:
 * Person/Place/Event with `person(id:)`, `place(id:)`, `event(id:)`, scope applied (an entity outside the
 * caller's grids is null) and the phone masked without `pii:read`, like the real subgraphs. It counts the
 * operations it runs, so tests can check that enrichment is batched.
 */
export const LOCAL_SDL = /* GraphQL */ `
  interface Node { id: ID! }
  type Grid { code: String! name: String! }
  type Place implements Node { id: ID! address: String! grid: Grid }
  type Person implements Node { id: ID! name: String! phone: String grid: Grid residence: Place }
  type Event implements Node { id: ID! title: String! status: String! grid: Grid place: Place participants: [Person!]! }
  type Query { person(id: ID, idNumber: String): Person place(id: ID!): Place event(id: ID!): Event }
`;

export interface LocalEntity {
  __typename: 'Person' | 'Place' | 'Event';
  id: string;
  gridCode: string;
  [field: string]: unknown;
}

export class LocalGraph {
  readonly schema: GraphQLSchema = buildSchema(LOCAL_SDL);
  readonly entities = new Map<string, LocalEntity>();
  /** Every operation run, in order (query text). */
  readonly operations: string[] = [];

  put(entity: LocalEntity): void {
    this.entities.set(entity.id, entity);
  }

  readonly execute: ExecuteAs = async ({ document, variables, identity }) => {
    this.operations.push(print(document));
    const visible = (type: string, id: string) => {
      const e = this.entities.get(id);
      if (!e || e.__typename !== type || !canSeeGrid(identity, e.gridCode)) return null;
      return this.view(e, identity);
    };
    return execute({
      schema: this.schema,
      document,
      variableValues: variables,
      rootValue: {
        person: ({ id }: { id: string }) => visible('Person', id),
        place: ({ id }: { id: string }) => visible('Place', id),
        event: ({ id }: { id: string }) => visible('Event', id),
      },
    }) as ReturnType<ExecuteAs>;
  };

  private view(e: LocalEntity, identity: Identity): Record<string, unknown> {
    const out: Record<string, unknown> = { ...e, grid: { code: e.gridCode, name: `网格${e.gridCode.slice(-3)}` } };
    if (typeof e.phone === 'string' && !identity.scopes.includes(PII_READ)) out.phone = `${e.phone.slice(0, 3)}****${e.phone.slice(-4)}`;
    if (e.__typename === 'Event') {
      out.participants = ((e.participantIds as string[] | undefined) ?? []).map((id) => this.entities.get(id)).filter(Boolean)
        .map((p) => this.view(p!, identity));
      out.place = e.placeId ? this.view(this.entities.get(e.placeId as string)!, identity) : null;
    }
    return out;
  }
}
