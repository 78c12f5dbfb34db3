/**
 * A change event: one committed change to a Person, Place or Event of the hub, as kept in the durable log
 * `hub.change_events` and fanned out live. `position` is its place in the log (gap-free, in commit order);
 * it is the public `ChangeEvent.id` and the `after` cursor of `Subscription.changes`.
 *
 * Outwards an event is a CloudEvents 1.0 envelope (webhook bodies, docs/events.md).
 */
export const CHANGE_OPS = ['CREATE', 'UPDATE', 'DELETE'] as const;
export type ChangeOp = (typeof CHANGE_OPS)[number];

export const ENTITY_TYPES = ['Person', 'Place', 'Event'] as const;
export type EntityType = (typeof ENTITY_TYPES)[number];

export interface ChangeEvent {
  position: number;
  /** CloudEvents `id` (uuid). */
  id: string;
  /** CloudEvents `type`, e.g. `gov.tonglan.event.created`. */
  type: string;
  /** CloudEvents `source`, e.g. `/tonglan/departments/POLICE`. */
  source: string;
  /** CloudEvents `subject`: `<EntityType>/<uuid>`. */
  subject: string;
  op: ChangeOp;
  entityType: string;
  entityId: string;
  department: string | null;
  gridCode: string | null;
  changedFields: string[];
  /** ISO 8601 time the change was committed to the outbox. */
  time: string;
}

const OP_VERBS: Record<ChangeOp, string> = { CREATE: 'created', UPDATE: 'updated', DELETE: 'deleted' };
export const TYPE_PREFIX = 'gov.tonglan.';

/** `gov.tonglan.<entity>.<created|updated|deleted>` */
export function changeEventType(entityType: string, op: ChangeOp): string {
  return `${TYPE_PREFIX}${entityType.toLowerCase()}.${OP_VERBS[op]}`;
}

export function changeEventSource(department: string | null): string {
  return department ? `/tonglan/departments/${department}` : '/tonglan/hub';
}

/** The columns of hub.change_events, in the shape `rowToChangeEvent` reads. */
export const CHANGE_EVENT_COLUMNS =
  'position, id, type, source, subject, op, entity_type, entity_id, department, grid_code, changed_fields, time';

export interface ChangeEventRow {
  position: number | string;
  id: string;
  type: string;
  source: string;
  subject: string | null;
  op: string;
  entity_type: string;
  entity_id: string;
  department: string | null;
  grid_code: string | null;
  changed_fields: string[] | null;
  time: Date | string;
}

export function rowToChangeEvent(row: ChangeEventRow): ChangeEvent {
  return {
    position: Number(row.position),
    id: row.id,
    type: row.type,
    source: row.source,
    subject: row.subject ?? `${row.entity_type}/${row.entity_id}`,
    op: row.op as ChangeOp,
    entityType: row.entity_type,
    entityId: row.entity_id,
    department: row.department,
    gridCode: row.grid_code,
    changedFields: row.changed_fields ?? [],
    time: row.time instanceof Date ? row.time.toISOString() : new Date(row.time).toISOString(),
  };
}

/** The CloudEvents 1.0 JSON envelope (structured mode) of a change event. */
export interface CloudEventEnvelope {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  subject: string;
  time: string;
  datacontenttype: 'application/json';
  /** CloudEvents `sequence` extension: the position, as a string. */
  sequence: string;
  data: {
    position: number;
    op: ChangeOp;
    entityType: string;
    entityId: string;
    department: string | null;
    gridCode: string | null;
    changedFields: string[];
  };
}

/**
 * A "thin" envelope: the reference and the names of the changed fields, never their values, so no personal
 * information leaves through a webhook; the receiver reads the entity through GraphQL with its own rights.
 */
export function toCloudEvent(event: ChangeEvent): CloudEventEnvelope {
  return {
    specversion: '1.0',
    id: event.id,
    source: event.source,
    type: event.type,
    subject: event.subject,
    time: event.time,
    datacontenttype: 'application/json',
    sequence: String(event.position),
    data: {
      position: event.position,
      op: event.op,
      entityType: event.entityType,
      entityId: event.entityId,
      department: event.department,
      gridCode: event.gridCode,
      changedFields: event.changedFields,
    },
  };
}
