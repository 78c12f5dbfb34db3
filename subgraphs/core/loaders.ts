import DataLoader from 'dataloader';
import type { Pool } from '../../platform/db';
import { named } from '../../platform/named-statement';
import type { Identity } from '../../security/identity';
import { departmentScope } from '../../security/scope';
import type { LoaderContext } from '../shared/context';
import { firstRows, groupRows, isUuid } from '../shared/sql';
import {
  EVENT_COLUMNS, GRID_COLUMNS, PERSON_COLUMNS, PLACE_COLUMNS,
  type CategoryRow, type EventRow, type GridRow, type PersonRow, type PlaceRow,
} from './rows';
import { eventVisible, gridVisible, personVisible, placeVisible } from './visibility';

/**
 * The core subgraph's DataLoaders, made fresh for every request. Each batch function runs ONE statement for
 * all the keys of a request (`= ANY($1)` or `unnest($1) CROSS JOIN LATERAL`), with the caller's visibility
 * in its WHERE clause, so the number of statements per request does not grow with the number of items.
 */
export interface SourceRecordRow {
  department: string; source_table: string; record_id: string; connector_id: string | null; record_key: string;
  method: string; score: number | null; linked_at: Date; synced_at: Date; person_id: string;
}

/** A page of a nested connection: whose (owner), how many, after which keyset position. */
export interface PageKey {
  owner: 'person' | 'place' | 'grid';
  id: string;
  first: number;
  /** Decoded cursor: [occurredAt, id] for events, [id] for residents. */
  after: string[] | null;
}
export type CountKey = Pick<PageKey, 'owner' | 'id'>;

export interface CoreLoaders {
  personById: DataLoader<string, PersonRow | null>;
  personByIdNumber: DataLoader<string, PersonRow | null>;
  placeById: DataLoader<string, PlaceRow | null>;
  eventById: DataLoader<string, EventRow | null>;
  gridByCode: DataLoader<string, GridRow | null>;
  gridChildren: DataLoader<string, GridRow[]>;
  categoryByCode: DataLoader<string, CategoryRow | null>;
  categoryChildren: DataLoader<string, CategoryRow[]>;
  participantsByEvent: DataLoader<string, { person_id: string; role: string }[]>;
  sourceRecordsByPerson: DataLoader<string, SourceRecordRow[]>;
  eventPage: DataLoader<PageKey, EventRow[], string>;
  eventCount: DataLoader<CountKey, number, string>;
  residentPage: DataLoader<PageKey, PersonRow[], string>;
  residentCount: DataLoader<string, number>;
}

/** Ids that are not UUIDs can match nothing: answered null without a round trip (and without a cast error). */
async function byUuid<R>(keys: readonly string[], run: (ids: string[]) => Promise<(R | null)[]>): Promise<(R | null)[]> {
  const valid = keys.filter(isUuid);
  if (!valid.length) return keys.map(() => null);
  const found = await run(valid);
  const map = new Map(valid.map((k, i) => [k, found[i] ?? null]));
  return keys.map((k) => map.get(k) ?? null);
}

/** The condition tying an event `e` to the owner `k.owner` of a nested connection. */
const EVENT_OWNER: Record<PageKey['owner'], string> = {
  person: 'EXISTS (SELECT 1 FROM core.event_participants ep WHERE ep.event_id = e.id AND ep.person_id = k.owner::uuid)',
  place: 'e.place_id = k.owner::uuid',
  grid: "e.grid_code LIKE k.owner || '%'",
};

function groupBy<K>(keys: readonly K[], by: (k: K) => string): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  keys.forEach((k, i) => {
    const g = by(k);
    const list = groups.get(g);
    if (list) list.push(i); else groups.set(g, [i]);
  });
  return groups;
}

export function createCoreLoaders({ identity, pool }: LoaderContext): CoreLoaders {
  // Named statements: every request runs the same few texts (platform/named-statement.ts).
  const q = <R>(sql: string, params: unknown[]) => pool.query(named(sql, params)).then((r) => r.rows as R[]);

  const personById = new DataLoader<string, PersonRow | null>((keys) => byUuid(keys, async (ids) => {
    const params: unknown[] = [ids];
    // A person merged into another answers as the merge target.
    const rows = await q<PersonRow & { _key: string }>(`SELECT k.id::text AS _key, ${PERSON_COLUMNS}
      FROM unnest($1::uuid[]) AS k(id) JOIN core.persons p0 ON p0.id = k.id JOIN core.persons p ON p.id = COALESCE(p0.merged_into, p0.id)
      WHERE ${personVisible(identity, 'p', params)}`, params);
    return firstRows(ids, rows);
  }));

  const personByIdNumber = new DataLoader<string, PersonRow | null>(async (keys) => {
    const params: unknown[] = [keys];
    const rows = await q<PersonRow & { _key: string }>(`SELECT p.id_number AS _key, ${PERSON_COLUMNS} FROM core.persons p
      WHERE p.id_number = ANY($1::text[]) AND ${personVisible(identity, 'p', params)}`, params);
    return firstRows(keys, rows);
  });

  const placeById = new DataLoader<string, PlaceRow | null>((keys) => byUuid(keys, async (ids) => {
    const params: unknown[] = [ids];
    const rows = await q<PlaceRow & { _key: string }>(`SELECT pl.id::text AS _key, ${PLACE_COLUMNS} FROM core.places pl
      WHERE pl.id = ANY($1::uuid[]) AND ${placeVisible(identity, 'pl', params)}`, params);
    return firstRows(ids, rows);
  }));

  const eventById = new DataLoader<string, EventRow | null>((keys) => byUuid(keys, async (ids) => {
    const params: unknown[] = [ids];
    const rows = await q<EventRow & { _key: string }>(`SELECT e.id::text AS _key, ${EVENT_COLUMNS} FROM core.events e
      WHERE e.id = ANY($1::uuid[]) AND ${eventVisible(identity, 'e', params)}`, params);
    return firstRows(ids, rows);
  }));

  const gridByCode = new DataLoader<string, GridRow | null>(async (keys) => {
    const params: unknown[] = [keys];
    const rows = await q<GridRow & { _key: string }>(`SELECT g.code AS _key, ${GRID_COLUMNS} FROM core.grids g
      WHERE g.code = ANY($1::text[]) AND ${gridVisible(identity, 'g', params)}`, params);
    return firstRows(keys, rows);
  });

  const gridChildren = new DataLoader<string, GridRow[]>(async (keys) => {
    const params: unknown[] = [keys];
    const rows = await q<GridRow & { _key: string }>(`SELECT g.parent_code AS _key, ${GRID_COLUMNS} FROM core.grids g
      WHERE g.parent_code = ANY($1::text[]) AND ${gridVisible(identity, 'g', params)} ORDER BY g.code`, params);
    return groupRows(keys, rows);
  });

  const categoryByCode = new DataLoader<string, CategoryRow | null>(async (keys) => {
    const rows = await q<CategoryRow & { _key: string }>(`SELECT c.code AS _key, c.code, c.name, c.parent_code, c.department
      FROM core.event_categories c WHERE c.code = ANY($1::text[])`, [keys]);
    return firstRows(keys, rows);
  });

  const categoryChildren = new DataLoader<string, CategoryRow[]>(async (keys) => {
    const rows = await q<CategoryRow & { _key: string }>(`SELECT c.parent_code AS _key, c.code, c.name, c.parent_code, c.department
      FROM core.event_categories c WHERE c.parent_code = ANY($1::text[]) ORDER BY c.sort, c.code`, [keys]);
    return groupRows(keys, rows);
  });

  const participantsByEvent = new DataLoader<string, { person_id: string; role: string }[]>((keys) => byUuid(keys, async (ids) => {
    const rows = await q<{ _key: string; person_id: string; role: string }>(`SELECT ep.event_id::text AS _key, ep.person_id, ep.role
      FROM core.event_participants ep WHERE ep.event_id = ANY($1::uuid[]) ORDER BY ep.event_id, ep.role, ep.person_id`, [ids]);
    return groupRows(ids, rows);
  }).then((r) => r.map((x) => x ?? [])));

  const sourceRecordsByPerson = new DataLoader<string, SourceRecordRow[]>((keys) => byUuid(keys, async (ids) => {
    const params: unknown[] = [ids];
    const departments = departmentScope(identity);
    let deptCondition = 'TRUE';
    if (departments !== null) {
      params.push(departments);
      deptCondition = `r.department = ANY($${params.length}::text[])`;
    }
    const rows = await q<SourceRecordRow & { _key: string }>(`SELECT r.person_id::text AS _key, r.department, r.source_table, r.record_id,
        r.connector_id, r.record_key, r.method, r.score, r.linked_at, r.synced_at, r.person_id
      FROM core.person_records r WHERE r.person_id = ANY($1::uuid[]) AND ${deptCondition}
      ORDER BY r.person_id, r.department, r.source_table, r.synced_at DESC`, params);
    return groupRows(ids, rows);
  }).then((r) => r.map((x) => x ?? [])));

  const pageKey = (k: PageKey) => JSON.stringify([k.owner, k.id, k.first, k.after]);

  const eventPage = new DataLoader<PageKey, EventRow[], string>(async (keys) => {
    const out: EventRow[][] = keys.map(() => []);
    // Keys that share owner kind, page size and cursor run as one statement (the usual case: all of them).
    for (const indexes of groupBy(keys, (k) => JSON.stringify([k.owner, k.first, k.after])).values()) {
      const sample = keys[indexes[0]!]!;
      const owners = indexes.map((i) => keys[i]!.id).filter((id) => sample.owner === 'grid' || isUuid(id));
      if (!owners.length || sample.first === 0) continue;
      const params: unknown[] = [owners, sample.first + 1];
      const where = [EVENT_OWNER[sample.owner], eventVisible(identity, 'e', params)];
      if (sample.after) {
        params.push(sample.after[0], sample.after[1]);
        where.push(`(e.occurred_at, e.id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
      }
      const rows = await q<EventRow & { _key: string }>(`SELECT k.owner AS _key, e.* FROM unnest($1::text[]) AS k(owner)
        CROSS JOIN LATERAL (SELECT ${EVENT_COLUMNS} FROM core.events e WHERE ${where.join(' AND ')}
          ORDER BY e.occurred_at DESC, e.id DESC LIMIT $2) e`, params);
      const grouped = groupRows(owners, rows);
      const byOwner = new Map(owners.map((o, i) => [o, grouped[i]!]));
      for (const i of indexes) out[i] = byOwner.get(keys[i]!.id) ?? [];
    }
    return out;
  }, { cacheKeyFn: pageKey });

  const eventCount = new DataLoader<CountKey, number, string>(async (keys) => {
    const out: number[] = keys.map(() => 0);
    for (const indexes of groupBy(keys, (k) => k.owner).values()) {
      const owner = keys[indexes[0]!]!.owner;
      const owners = indexes.map((i) => keys[i]!.id).filter((id) => owner === 'grid' || isUuid(id));
      if (!owners.length) continue;
      const params: unknown[] = [owners];
      const rows = await q<{ _key: string; n: number }>(`SELECT k.owner AS _key,
          (SELECT count(*)::int FROM core.events e WHERE ${EVENT_OWNER[owner]} AND ${eventVisible(identity, 'e', params)}) AS n
        FROM unnest($1::text[]) AS k(owner)`, params);
      const counts = new Map(rows.map((r) => [r._key, r.n]));
      for (const i of indexes) out[i] = counts.get(keys[i]!.id) ?? 0;
    }
    return out;
  }, { cacheKeyFn: (k) => `${k.owner}:${k.id}` });

  const residentPage = new DataLoader<PageKey, PersonRow[], string>(async (keys) => {
    const out: PersonRow[][] = keys.map(() => []);
    for (const indexes of groupBy(keys, (k) => JSON.stringify([k.first, k.after])).values()) {
      const sample = keys[indexes[0]!]!;
      const owners = indexes.map((i) => keys[i]!.id).filter(isUuid);
      if (!owners.length || sample.first === 0) continue;
      const params: unknown[] = [owners, sample.first + 1];
      const where = ['p.residence_place_id = k.owner', personVisible(identity, 'p', params)];
      if (sample.after) {
        params.push(sample.after[0]);
        where.push(`p.id > $${params.length}::uuid`);
      }
      const rows = await q<PersonRow & { _key: string }>(`SELECT k.owner::text AS _key, p.* FROM unnest($1::uuid[]) AS k(owner)
        CROSS JOIN LATERAL (SELECT ${PERSON_COLUMNS} FROM core.persons p WHERE ${where.join(' AND ')} ORDER BY p.id LIMIT $2) p`, params);
      const grouped = groupRows(owners, rows);
      const byOwner = new Map(owners.map((o, i) => [o, grouped[i]!]));
      for (const i of indexes) out[i] = byOwner.get(keys[i]!.id) ?? [];
    }
    return out;
  }, { cacheKeyFn: pageKey });

  const residentCount = new DataLoader<string, number>((keys) => byUuid(keys, async (ids) => {
    const params: unknown[] = [ids];
    const rows = await q<{ _key: string; n: number }>(`SELECT p.residence_place_id::text AS _key, count(*)::int AS n FROM core.persons p
      WHERE p.residence_place_id = ANY($1::uuid[]) AND ${personVisible(identity, 'p', params)} GROUP BY p.residence_place_id`, params);
    const counts = new Map(rows.map((r) => [r._key, r.n]));
    return ids.map((id) => counts.get(id) ?? 0);
  }).then((r) => r.map((x) => x ?? 0)));

  return {
    personById, personByIdNumber, placeById, eventById, gridByCode, gridChildren, categoryByCode, categoryChildren,
    participantsByEvent, sourceRecordsByPerson, eventPage, eventCount, residentPage, residentCount,
  };
}

export type { Pool, Identity };
