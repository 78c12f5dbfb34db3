import { GraphQLSchema, extendSchema, parse } from 'graphql';
import { DEPARTMENT_CODES } from '../../domain/departments';

/**
 * The hub's own subscription schema: the supergraph's API schema (what clients query through the gateway)
 * plus `Subscription.changes`. `@apollo/gateway` cannot execute subscriptions, so the graphql-ws endpoint at
 * the gateway's `/graphql` serves this schema: a client sees one schema, whose Query and Mutation are the
 * supergraph's (forwarded to the gateway) and whose Subscription is the change feed.
 *
 * `ChangeEvent.entity` is the union of the core entity types the API schema has (Person, Place, Event).
 */
export const SUBSCRIPTION_SDL = /* GraphQL */ `
"""A committed change to a Person, Place or Event, in the order of the hub's change log (docs/events.md)."""
type ChangeEvent {
  """The event's position in the change log. \`changes(after: id)\` resumes right after it."""
  id: ID!
  """CloudEvents type: gov.tonglan.<person|place|event>.<created|updated|deleted>."""
  type: String!
  op: ChangeOp!
  """Person, Place or Event."""
  entityType: String!
  entityId: ID!
  """The department whose data changed (null for changes made by the hub itself, e.g. a person merge)."""
  department: Department
  """The grid of the changed entity (15-digit grid code), when it has one."""
  gridCode: String
  """Names of the fields that changed (empty for CREATE and DELETE)."""
  changedFields: [String!]!
  """When the change was committed (ISO 8601)."""
  occurredAt: String!
  """CloudEvents id (a uuid, stable across redeliveries)."""
  cloudEventId: ID!
  """CloudEvents source, e.g. /tonglan/departments/POLICE."""
  source: String!
  """CloudEvents subject: <entityType>/<entityId>."""
  subject: String!
  """The entity as it is now, resolved through the federated graph with the subscriber's own selection and
  permissions; null after a DELETE or when the subscriber may not see it."""
  entity: ChangeEntity
}

"""The entity a change event is about."""
union ChangeEntity = __ENTITY_TYPES__

enum ChangeOp { CREATE UPDATE DELETE }

"""Which changes to receive. Every field narrows; the subscriber's own scope (grids, departments) always applies."""
input ChangeFilter {
  """CloudEvents types, full (gov.tonglan.event.created) or short (event.created)."""
  types: [String!]
  ops: [ChangeOp!]
  """Person, Place, Event."""
  entityTypes: [String!]
  departments: [Department!]
  """A grid code of any level (district 6 digits … grid 15 digits): that area and everything below it."""
  gridCode: String
  """Several grid codes, as gridCode."""
  gridCodes: [String!]
}

type Subscription {
  """Every later change the subscriber may see, in order. \`after\`: a ChangeEvent.id to resume from (replays
  from the durable log, then continues live without a gap or a duplicate)."""
  changes(filter: ChangeFilter, after: String): ChangeEvent!
}

extend schema { subscription: Subscription }
`;

const DEPARTMENT_SDL = `"""A department whose systems the hub integrates."""\nenum Department { ${DEPARTMENT_CODES.join(' ')} }\n`;

/**
 * The API schema with the change subscription added. Types the API schema has already are taken from it:
 * `Department` (core), and `ChangeOp` / `ChangeFilter`, which the admin subgraph declares for webhooks
 * (subgraphs/admin/webhooks.graphql, the same definitions), so a client sees one of each.
 */
export function buildSubscriptionSchema(apiSchema: GraphQLSchema): GraphQLSchema {
  const entityTypes = ['Person', 'Place', 'Event'].filter((t) => apiSchema.getType(t));
  if (entityTypes.length === 0) throw new Error('The API schema has none of Person, Place, Event: nothing for ChangeEvent.entity');
  const document = parse(DEPARTMENT_SDL + SUBSCRIPTION_SDL.replace('__ENTITY_TYPES__', entityTypes.join(' | ')));
  const definitions = document.definitions.filter((d) => !('name' in d && d.name && apiSchema.getType(d.name.value)));
  return extendSchema(apiSchema, { ...document, definitions });
}
