import { canonicalIdNumber } from '../../domain/id-number';
import { HubError } from '../../platform/errors';
import { auditEntry, createAuditLog } from '../../security/audit';
import { canReadPii } from '../../security/masking';
import { assertCan } from '../../security/scope';
import type { SubgraphContext } from '../shared/context';
import { decodeCursor, pageSize, toConnection } from '../shared/connection';
import type { ResolverMap } from '../shared/create-subgraph-server';
import { protectedFields } from '../shared/pii-guard';
import { assertUuid, iso } from '../shared/sql';
import { eventConditions, CLOSED_STATUSES, STATS_DIMENSIONS, type EventFilter, type StatsDimension } from './event-filter';
import type { CoreLoaders, PageKey } from './loaders';
import {
  EVENT_COLUMNS, PERSON_COLUMNS, toCategory, toEvent, toGrid, toPerson, toPlace,
  type CategoryNode, type EventNode, type EventRow, type GridNode, type PersonNode, type PersonRow, type PlaceNode,
} from './rows';
import { auditIfOutOfScope } from './denials';
import { personVisible } from './visibility';
import { DEPARTMENT_CODES, isDepartment } from '../../domain/departments';

type Ctx = SubgraphContext<CoreLoaders>;

interface PersonFilter { gridCode?: string | null; name?: string | null; flags?: string[] | null; departments?: string[] | null }

const eventCursor = (row: EventRow) => [row._ts, row.id];
const personCursor = (row: PersonRow) => [row.id];

/** A nested events connection (Person.events, Place.events, Grid.events) through the batched page loaders. */
async function ownedEvents(ctx: Ctx, owner: PageKey['owner'], id: string, args: { first?: number | null; after?: string | null }) {
  const first = pageSize(args.first);
  const after = decodeCursor(args.after, 2) as string[] | null;
  const rows = await ctx.loaders.eventPage.load({ owner, id, first, after });
  return toConnection(rows, first, args.after, eventCursor, toEvent, () => ctx.loaders.eventCount.load({ owner, id }));
}

async function personConnection(ctx: Ctx, filter: PersonFilter | null | undefined, args: { first?: number | null; after?: string | null }) {
  const first = pageSize(args.first);
  const after = decodeCursor(args.after, 1);
  const params: unknown[] = [];
  const where = [personVisible(ctx.identity, 'p', params)];
  const f = filter ?? {};
  if (f.gridCode) {
    if (!/^\d{1,15}$/.test(f.gridCode)) throw new HubError('TL_ERR_BAD_USER_INPUT', `filter.gridCode: "${f.gridCode}" is not a grid code`);
    params.push(`${f.gridCode}%`);
    where.push(`p.grid_code LIKE $${params.length}`);
  }
  if (f.name) {
    params.push(`${f.name.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    where.push(`p.name LIKE $${params.length}`);
  }
  if (f.flags?.length) {
    // Filtering by special-group flags reveals them: only for callers who may read them.
    if (!canReadPii(ctx.identity)) throw new HubError('TL_ERR_FORBIDDEN', 'filter.flags needs the pii:read scope (special-group flags are sensitive)');
    params.push(f.flags);
    where.push(`p.flags && $${params.length}::text[]`);
  }
  if (f.departments?.length) {
    params.push(f.departments);
    where.push(`EXISTS (SELECT 1 FROM core.person_records fr WHERE fr.person_id = p.id AND fr.department = ANY($${params.length}::text[]))`);
  }
  const countSql = `SELECT count(*)::int AS n FROM core.persons p WHERE ${where.join(' AND ')}`;
  const countParams = [...params];
  const pageWhere = [...where];
  if (after) {
    params.push(after[0]);
    pageWhere.push(`p.id > $${params.length}::uuid`);
  }
  params.push(first + 1);
  const rows = first === 0 ? [] : (await ctx.pool.query<PersonRow>(
    `SELECT ${PERSON_COLUMNS} FROM core.persons p WHERE ${pageWhere.join(' AND ')} ORDER BY p.id LIMIT $${params.length}`, params)).rows;
  return toConnection(rows, first, args.after, personCursor, toPerson,
    async () => (await ctx.pool.query<{ n: number }>(countSql, countParams)).rows[0]!.n);
}

export const resolvers: ResolverMap = {
  Query: {
    async person(_: unknown, args: { id?: string | null; idNumber?: string | null }, ctx: Ctx) {
      assertCan(ctx.identity, 'graph:read');
      if (args.id) {
        const row = await ctx.loaders.personById.load(args.id);
        if (!row) await auditIfOutOfScope(ctx, 'person', args.id);
        return row ? toPerson(row) : null;
      }
      if (args.idNumber) {
        // Looking a person up by ID number is a use of that ID number: without pii:read it would be an oracle
        // ("does this number exist, in my grid?"), so it needs pii:read (refused and audited otherwise); with
        // it, the lookup stays inside the caller's scope and counts as an unmasked read of Person.idNumber of
        // the person found (audited with the request's other reads).
        const canonical = canonicalIdNumber(args.idNumber);
        if (!canonical) throw new HubError('TL_ERR_BAD_USER_INPUT', 'idNumber is not a valid 公民身份号码 (18 digits with a correct check digit, or 15 digits)', { argument: 'idNumber' });
        if (!canReadPii(ctx.identity)) {
          await createAuditLog(ctx.pool).record(auditEntry(ctx.identity, 'denied', {
            operation: ctx.operationName, fields: ['Person.idNumber'], detail: { subgraph: 'core', reason: 'pii_read_required', lookup: 'personByIdNumber' },
          }));
          throw new HubError('TL_ERR_FORBIDDEN', 'person(idNumber:) needs the pii:read scope (a lookup by ID number reveals whether it exists)', { argument: 'idNumber', scope: 'pii:read' });
        }
        const row = await ctx.loaders.personByIdNumber.load(canonical);
        if (!row) {
          await auditIfOutOfScope(ctx, 'personByIdNumber', canonical);
          return null;
        }
        ctx.pii.protect('Person', 'idNumber', row.id_number, row.id);
        return toPerson(row);
      }
      throw new HubError('TL_ERR_BAD_USER_INPUT', 'person needs id or idNumber');
    },
    persons(_: unknown, args: { filter?: PersonFilter; first?: number; after?: string }, ctx: Ctx) {
      assertCan(ctx.identity, 'graph:read');
      return personConnection(ctx, args.filter, args);
    },
    async place(_: unknown, args: { id: string }, ctx: Ctx) {
      assertCan(ctx.identity, 'graph:read');
      const row = await ctx.loaders.placeById.load(args.id);
      if (!row) await auditIfOutOfScope(ctx, 'place', args.id);
      return row ? toPlace(row) : null;
    },
    async event(_: unknown, args: { id: string }, ctx: Ctx) {
      assertCan(ctx.identity, 'graph:read');
      const row = await ctx.loaders.eventById.load(args.id);
      if (!row) await auditIfOutOfScope(ctx, 'event', args.id);
      return row ? toEvent(row) : null;
    },
    async events(_: unknown, args: { filter?: EventFilter; first?: number; after?: string }, ctx: Ctx) {
      assertCan(ctx.identity, 'graph:read');
      const first = pageSize(args.first);
      const after = decodeCursor(args.after, 2);
      const params: unknown[] = [];
      const where = eventConditions(ctx.identity, args.filter, 'e', params);
      const countSql = `SELECT count(*)::int AS n FROM core.events e WHERE ${where.join(' AND ')}`;
      const countParams = [...params];
      if (after) {
        assertUuid(after[1], 'after');
        params.push(after[0], after[1]);
        where.push(`(e.occurred_at, e.id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
      }
      params.push(first + 1);
      const rows = first === 0 ? [] : (await ctx.pool.query<EventRow>(
        `SELECT ${EVENT_COLUMNS} FROM core.events e WHERE ${where.join(' AND ')} ORDER BY e.occurred_at DESC, e.id DESC LIMIT $${params.length}`, params)).rows;
      return toConnection(rows, first, args.after, eventCursor, toEvent,
        async () => (await ctx.pool.query<{ n: number }>(countSql, countParams)).rows[0]!.n);
    },
    async grid(_: unknown, args: { code: string }, ctx: Ctx) {
      assertCan(ctx.identity, 'graph:read');
      const row = await ctx.loaders.gridByCode.load(args.code);
      if (!row) await auditIfOutOfScope(ctx, 'grid', args.code);
      return row ? toGrid(row) : null;
    },
    async eventStats(_: unknown, args: { filter?: EventFilter; groupBy: StatsDimension[] }, ctx: Ctx) {
      assertCan(ctx.identity, 'stats:read');
      if (new Set(args.groupBy).size !== args.groupBy.length) {
        throw new HubError('TL_ERR_BAD_USER_INPUT', `groupBy lists a dimension twice: ${args.groupBy.join(', ')}`);
      }
      const params: unknown[] = [];
      const where = eventConditions(ctx.identity, args.filter, 'e', params);
      params.push(CLOSED_STATUSES);
      const dims = args.groupBy.map((d, i) => `${STATS_DIMENSIONS[d]} AS k${i}`);
      const groups = args.groupBy.map((_d, i) => String(i + 1));
      const { rows } = await ctx.pool.query<Record<string, string | number>>(
        `SELECT ${[...dims, 'count(*)::int AS count', `count(*) FILTER (WHERE e.status = ANY($${params.length}::text[]))::int AS closed`].join(', ')}
         FROM core.events e WHERE ${where.join(' AND ')}
         ${groups.length ? `GROUP BY ${groups.join(', ')} ORDER BY ${groups.join(', ')}` : ''}`, params);
      return rows.filter((r) => Number(r.count) > 0).map((r) => {
        const count = Number(r.count);
        const closed = Number(r.closed);
        return { key: args.groupBy.map((_d, i) => String(r[`k${i}`])), count, closed, closureRate: count ? closed / count : 0 };
      });
    },
    async eventCategories(_: unknown, args: { parentCode?: string | null }, ctx: Ctx) {
      if (args.parentCode) return (await ctx.loaders.categoryChildren.load(args.parentCode)).map(toCategory);
      const { rows } = await ctx.pool.query('SELECT code, name, parent_code, department FROM core.event_categories WHERE parent_code IS NULL ORDER BY sort, code');
      return rows.map(toCategory);
    },
  },

  Person: {
    async __resolveReference(ref: { id: string }, ctx: Ctx) {
      const row = await ctx.loaders.personById.load(ref.id);
      return row ? toPerson(row) : null;
    },
    ...protectedFields<PersonNode>('Person', ['idNumber', 'phone', 'flags'], (p) => p.id),
    async residence(p: PersonNode, _: unknown, ctx: Ctx) {
      if (!p.residencePlaceId) return null;
      const row = await ctx.loaders.placeById.load(p.residencePlaceId);
      return row ? toPlace(row) : null;
    },
    async grid(p: PersonNode, _: unknown, ctx: Ctx) {
      if (!p.gridCode) return null;
      const row = await ctx.loaders.gridByCode.load(p.gridCode);
      return row ? toGrid(row) : null;
    },
    events: (p: PersonNode, args: { first?: number; after?: string }, ctx: Ctx) => ownedEvents(ctx, 'person', p.id, args),
    async sourceRecords(p: PersonNode, _: unknown, ctx: Ctx) {
      return (await ctx.loaders.sourceRecordsByPerson.load(p.id)).filter((r) => isDepartment(r.department)).map((r) => ({
        department: r.department, sourceTable: r.source_table, recordId: r.record_id, connectorId: r.connector_id,
        recordKey: r.record_key, method: r.method, score: r.score, linkedAt: iso(r.linked_at), syncedAt: iso(r.synced_at),
      }));
    },
  },

  Place: {
    async __resolveReference(ref: { id: string }, ctx: Ctx) {
      const row = await ctx.loaders.placeById.load(ref.id);
      return row ? toPlace(row) : null;
    },
    async grid(p: PlaceNode, _: unknown, ctx: Ctx) {
      if (!p.gridCode) return null;
      const row = await ctx.loaders.gridByCode.load(p.gridCode);
      return row ? toGrid(row) : null;
    },
    async residents(p: PlaceNode, args: { first?: number; after?: string }, ctx: Ctx) {
      const first = pageSize(args.first);
      const after = decodeCursor(args.after, 1) as string[] | null;
      const rows = await ctx.loaders.residentPage.load({ owner: 'place', id: p.id, first, after });
      return toConnection(rows, first, args.after, personCursor, toPerson, () => ctx.loaders.residentCount.load(p.id));
    },
    events: (p: PlaceNode, args: { first?: number; after?: string }, ctx: Ctx) => ownedEvents(ctx, 'place', p.id, args),
  },

  Event: {
    async __resolveReference(ref: { id: string }, ctx: Ctx) {
      const row = await ctx.loaders.eventById.load(ref.id);
      return row ? toEvent(row) : null;
    },
    async category(e: EventNode, _: unknown, ctx: Ctx) {
      if (!e.categoryCode) return null;
      const row = await ctx.loaders.categoryByCode.load(e.categoryCode);
      return row ? toCategory(row) : null;
    },
    async place(e: EventNode, _: unknown, ctx: Ctx) {
      if (!e.placeId) return null;
      const row = await ctx.loaders.placeById.load(e.placeId);
      return row ? toPlace(row) : null;
    },
    async grid(e: EventNode, _: unknown, ctx: Ctx) {
      if (!e.gridCode) return null;
      const row = await ctx.loaders.gridByCode.load(e.gridCode);
      return row ? toGrid(row) : null;
    },
    async participants(e: EventNode, _: unknown, ctx: Ctx) {
      return (await ctx.loaders.participantsByEvent.load(e.id)).map((p) => ({ personId: p.person_id, role: p.role }));
    },
    department: (e: EventNode) => (DEPARTMENT_CODES as string[]).includes(e.department) ? e.department : null,
  },

  EventParticipant: {
    async person(p: { personId: string }, _: unknown, ctx: Ctx) {
      const row = await ctx.loaders.personById.load(p.personId);
      return row ? toPerson(row) : null;
    },
  },

  EventCategory: {
    async parent(c: CategoryNode, _: unknown, ctx: Ctx) {
      if (!c.parentCode) return null;
      const row = await ctx.loaders.categoryByCode.load(c.parentCode);
      return row ? toCategory(row) : null;
    },
    async children(c: CategoryNode, _: unknown, ctx: Ctx) {
      return (await ctx.loaders.categoryChildren.load(c.code)).map(toCategory);
    },
  },

  Grid: {
    async __resolveReference(ref: { code: string }, ctx: Ctx) {
      const row = await ctx.loaders.gridByCode.load(ref.code);
      return row ? toGrid(row) : null;
    },
    async parent(g: GridNode, _: unknown, ctx: Ctx) {
      if (!g.parentCode) return null;
      const row = await ctx.loaders.gridByCode.load(g.parentCode);
      return row ? toGrid(row) : null;
    },
    async children(g: GridNode, _: unknown, ctx: Ctx) {
      return (await ctx.loaders.gridChildren.load(g.code)).map(toGrid);
    },
    events: (g: GridNode, args: { first?: number; after?: string }, ctx: Ctx) => ownedEvents(ctx, 'grid', g.code, args),
  },
};
