import { randomUUID } from 'node:crypto';
import { from as copyFrom } from 'pg-copy-streams';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type { PoolClient } from '../../platform/db';
import type { Department } from '../../domain/departments';
import type { PersonLink, PersonMention, PlaceLink, PlaceMention } from '../../linking/types';
import type { EventDraft, StreamMapping } from '../mapping';
import { copyLine } from './copy-text';
import type { Linker } from './linker';
import { quoteIdent, quoteTable, type TargetTable } from './targets';

/**
 * Writes one batch of mapped rows into the department table, inside the caller's transaction:
 *  1. reads the batch's keys from the table (one index lookup) and drops the rows whose hash did not change;
 *  2. links the persons and addresses of the changed rows (linking/, same transaction);
 *  3. COPYs the changed rows, with their links, into a temp staging table;
 *  4. merges set-based: INSERT … ON CONFLICT (_connector_id, _record_key) DO UPDATE … WHERE the hash differs;
 *  5. projects event-like rows into core.events (+ participants) and the department's parties table;
 *  6. writes hub.outbox rows for every Person / Place / Event created, updated or deleted.
 * Ids of new rows (and of their events) are made here, before the write, so each row is written once.
 */
export interface MappedRow {
  key: string;
  hash: string;
  sourceUpdatedAt: string | null;
  values: Record<string, unknown>;
  event?: EventDraft;
}

export interface StreamWriteContext {
  connectorId: string;
  department: Department;
  target: TargetTable;
  mapping: StreamMapping;
  /** Target columns the mapping writes (CompiledStream.columns). */
  columns: string[];
  linker: Linker | null;
}

export interface WriteResult {
  written: number;
  unchanged: number;
}

interface Existing { id: string; hash: string; deleted: boolean; eventId: string | null }
interface Changed extends MappedRow { id: string; eventId: string | null; inserted: boolean; eventExists: boolean }

const PERSON_KEYS = ['idNumber', 'name', 'sex', 'birthDate', 'phone', 'address'] as const;

function text(v: unknown): string | null {
  return v === null || v === undefined || v === '' ? null : String(v);
}

function sexOf(v: unknown): 'M' | 'F' | null {
  return v === 'M' || v === 'F' ? v : null;
}

/** Lines gathered into chunks of about 256 KB: one CopyData message per line would cost a write each. */
export function* chunked(lines: Iterable<string>, size = 256 * 1024): Generator<Buffer> {
  let parts: string[] = [];
  let length = 0;
  for (const line of lines) {
    parts.push(line);
    length += line.length;
    if (length >= size) {
      yield Buffer.from(parts.join(''), 'utf8');
      parts = [];
      length = 0;
    }
  }
  if (parts.length) yield Buffer.from(parts.join(''), 'utf8');
}

export async function copyRows(client: PoolClient, table: string, columns: string[], lines: Iterable<string>): Promise<void> {
  const sql = `COPY ${table} (${columns.map(quoteIdent).join(', ')}) FROM STDIN`;
  const stream = client.query(copyFrom(sql));
  await pipeline(Readable.from(chunked(lines)), stream);
}

const stages = new WeakMap<PoolClient, Set<string>>();

/** A temp table (per session) shaped like the given columns of the target; emptied before each use. */
async function stageTable(client: PoolClient, target: TargetTable, columns: string[]): Promise<string> {
  let made = stages.get(client);
  if (!made) stages.set(client, (made = new Set()));
  const name = `tl_stage_${target.schema}_${target.table}_${columns.length}_${hashOf(columns.join(','))}`;
  if (!made.has(name)) {
    await client.query(`CREATE TEMP TABLE IF NOT EXISTS ${name} AS SELECT ${columns.map(quoteIdent).join(', ')} FROM ${quoteTable(target.name)} WITH NO DATA`);
    made.add(name);
  }
  await client.query(`TRUNCATE ${name}`);
  return name;
}

function hashOf(s: string): string {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return (h >>> 0).toString(36);
}

/**
 * Runs one statement that joins a batch (a few thousand keys) to a table that grows during the run with only
 * nested-loop index probes available. Statistics lag behind a table filled by this very run (it is "tiny" to the
 * planner while it holds 100,000 rows), and the planner then hashes or scans the whole table for every batch:
 * quadratic over a run. SET LOCAL: this transaction only, and set back right after the statement.
 */
async function withIndexProbes<T>(client: PoolClient, statement: () => Promise<T>): Promise<T> {
  await client.query(`SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_hashjoin = off;
    SET LOCAL enable_mergejoin = off; SET LOCAL enable_material = off`);
  try {
    return await statement();
  } finally {
    await client.query(`SET LOCAL enable_seqscan TO DEFAULT; SET LOCAL enable_bitmapscan TO DEFAULT; SET LOCAL enable_hashjoin TO DEFAULT;
      SET LOCAL enable_mergejoin TO DEFAULT; SET LOCAL enable_material TO DEFAULT`).catch(() => undefined);
  }
}

export async function writeRows(client: PoolClient, ctx: StreamWriteContext, input: MappedRow[]): Promise<WriteResult> {
  if (!input.length) return { written: 0, unchanged: 0 };
  const { target, mapping } = ctx;
  // The last version of a key in a batch wins (a source may list a row twice while it changes).
  const byKey = new Map<string, MappedRow>();
  for (const r of input) byKey.set(r.key, r);
  const rows = [...byKey.values()];
  const duplicates = input.length - rows.length;

  // 1. What the table holds for these keys.
  const hasEvent = !!mapping.event && target.has('event_id');
  // One probe of the UNIQUE (_connector_id, _record_key) index per key of the batch, never a scan of the
  // table: during a run the table grows from (nearly) empty while its statistics still say it is tiny, so the
  // planner hashed (or bitmap-scanned) every row of the connector for each batch — a cost growing with the table
  // (10 ms → 400 ms per 10,000-row batch over 100,000 rows: quadratic over a run). With scans and hash/merge
  // joins off for this one statement, only the nested loop over the batch's keys with an index probe each is
  // left (withIndexProbes).
  const { rows: existingRows } = await withIndexProbes(client, () => client.query<{ k: string; id: string; h: string; d: boolean; e: string | null }>(
    `SELECT t._record_key AS k, t.id, t._row_hash AS h, t._deleted_at IS NOT NULL AS d, ${hasEvent ? 't.event_id' : 'NULL::uuid'} AS e
       FROM unnest($2::text[]) AS b(key) JOIN ${quoteTable(target.name)} t ON t._connector_id = $1 AND t._record_key = b.key`,
    [ctx.connectorId, rows.map((r) => r.key)]));
  const existing = new Map<string, Existing>(existingRows.map((r) => [r.k, { id: r.id, hash: r.h, deleted: r.d, eventId: r.e }]));
  const changed: Changed[] = [];
  for (const r of rows) {
    const e = existing.get(r.key);
    if (e && e.hash === r.hash && !e.deleted) continue;
    changed.push({ ...r, id: e?.id ?? randomUUID(), eventId: hasEvent && r.event ? e?.eventId ?? randomUUID() : null, inserted: !e, eventExists: !!e?.eventId });
  }
  const unchanged = rows.length - changed.length + duplicates;
  if (!changed.length) return { written: 0, unchanged };

  // 2. Linking of the changed rows' persons and address.
  const extraColumns: string[] = [];
  const personLinks = new Map<string, PersonLink>();
  const placeLinks = new Map<string, PlaceLink>();
  if (ctx.linker) {
    const personMentions: PersonMention[] = [];
    const placeMentions: PlaceMention[] = [];
    for (const r of changed) {
      const base = { department: ctx.department, sourceTable: target.name, recordId: r.id, recordKey: r.key, connectorId: ctx.connectorId };
      mapping.persons?.forEach((p, i) => {
        const m: PersonMention = { ref: `${r.id}#p${i}`, ...base };
        for (const k of PERSON_KEYS) {
          const f = p[k];
          if (f) (m as unknown as Record<string, unknown>)[k] = k === 'sex' ? sexOf(r.values[f]) : text(r.values[f]);
        }
        if (m.idNumber || m.name) personMentions.push(m);
      });
      const parties = mapping.parties ? r.values[mapping.parties.field] : null;
      if (Array.isArray(parties)) {
        parties.forEach((party: Record<string, unknown>, j) => {
          const m: PersonMention = {
            ref: `${r.id}#party${j}`, ...base, idNumber: text(party.idNumber), name: text(party.name), sex: sexOf(party.sex),
            birthDate: text(party.birthDate), phone: text(party.phone), address: text(party.address),
          };
          if (m.idNumber || m.name) personMentions.push(m);
        });
      }
      const address = mapping.place ? text(r.values[mapping.place.address]) : null;
      if (address) placeMentions.push({ ref: r.id, address });
    }
    if (personMentions.length) for (const l of await ctx.linker.linkPersons(client, personMentions)) personLinks.set(l.ref, l);
    if (placeMentions.length) for (const l of await ctx.linker.linkPlaces(client, placeMentions)) placeLinks.set(l.ref, l);
    for (const p of mapping.persons ?? []) {
      const col = p.target ?? 'person_id';
      if (target.has(col) && !ctx.columns.includes(col) && !extraColumns.includes(col)) extraColumns.push(col);
    }
    if (mapping.place) {
      for (const col of ['place_id', 'grid_code']) if (target.has(col) && !ctx.columns.includes(col) && !extraColumns.includes(col)) extraColumns.push(col);
    }
    for (const r of changed) {
      mapping.persons?.forEach((p, i) => {
        const l = personLinks.get(`${r.id}#p${i}`);
        const col = p.target ?? 'person_id';
        if (target.has(col)) r.values[col] = l?.personId ?? null;
      });
      const pl = placeLinks.get(r.id);
      if (mapping.place && target.has('place_id')) r.values.place_id = pl?.placeId ?? null;
      if (mapping.place && target.has('grid_code') && (pl?.gridCode || !ctx.columns.includes('grid_code'))) r.values.grid_code = pl?.gridCode ?? r.values.grid_code ?? null;
    }
  }

  // 3. Staging by COPY.
  const columns = ['id', '_record_key', '_row_hash', '_source_updated_at', ...ctx.columns, ...extraColumns, ...(hasEvent ? ['event_id'] : [])];
  const valueColumns = [...ctx.columns, ...extraColumns];
  const stage = await stageTable(client, target, columns);
  await copyRows(client, stage, columns, (function* () {
    for (const r of changed) {
      const line: unknown[] = [r.id, r.key, r.hash, r.sourceUpdatedAt];
      for (const c of valueColumns) line.push(r.values[c]);
      if (hasEvent) line.push(r.eventId);
      yield copyLine(line);
    }
  })());

  // 4. The set-based merge; unchanged rows are skipped by the hash guard as well.
  const cols = columns.map(quoteIdent).join(', ');
  const updates = columns.filter((c) => c !== 'id' && c !== '_record_key').map((c) => `${quoteIdent(c)} = excluded.${quoteIdent(c)}`);
  const merged = await client.query(
    `INSERT INTO ${quoteTable(target.name)} AS t (${cols}, _connector_id, _synced_at, _deleted_at)
     SELECT ${cols}, $1::uuid, now(), NULL FROM ${stage}
     ON CONFLICT (_connector_id, _record_key) DO UPDATE SET ${updates.join(', ')}, _synced_at = now(), _deleted_at = NULL
     WHERE t._row_hash IS DISTINCT FROM excluded._row_hash OR t._deleted_at IS NOT NULL`, [ctx.connectorId]);
  const written = merged.rowCount ?? 0;
  const ids = changed.map((r) => r.id);

  // 5. Parties of the record (department table) and the event projection.
  const participants: { record: string; event: string | null; person: string; role: string }[] = [];
  for (const r of changed) {
    mapping.persons?.forEach((p, i) => {
      const l = personLinks.get(`${r.id}#p${i}`);
      if (l && p.role) participants.push({ record: r.id, event: r.eventId, person: l.personId, role: p.role });
    });
    const parties = mapping.parties ? r.values[mapping.parties.field] : null;
    if (Array.isArray(parties)) {
      parties.forEach((party: Record<string, unknown>, j) => {
        const l = personLinks.get(`${r.id}#party${j}`);
        if (l) participants.push({ record: r.id, event: r.eventId, person: l.personId, role: text(party.role) ?? mapping.parties!.defaultRole ?? 'party' });
      });
    }
  }
  if (target.parties && ctx.linker) {
    await client.query(`DELETE FROM ${quoteTable(target.parties.table)} WHERE ${quoteIdent(target.parties.fk)} = ANY($1::uuid[])`, [ids]);
    if (participants.length) {
      await client.query(
        `INSERT INTO ${quoteTable(target.parties.table)} (${quoteIdent(target.parties.fk)}, person_id, role)
         SELECT record, person, role FROM jsonb_to_recordset($1::jsonb) AS x(record uuid, person uuid, role text) ON CONFLICT DO NOTHING`,
        [JSON.stringify(participants)]);
    }
  }
  if (hasEvent) {
    const events = changed.filter((r) => r.event && r.eventId).map((r) => ({
      ...r.event!, id: r.eventId, source_id: r.id, exists: r.eventExists,
      place_id: target.has('place_id') ? r.values.place_id ?? null : null,
      grid_code: target.has('grid_code') ? r.values.grid_code ?? null : null,
    }));
    await projectEvents(client, ctx, events);
    if (ctx.linker) {
      await client.query('DELETE FROM core.event_participants WHERE event_id = ANY($1::uuid[])', [events.map((e) => e.id)]);
      if (participants.length) {
        // The join keeps only events that exist; as index probes (it was a sequential scan of all of core.events
        // per batch while the table's statistics lagged behind its growth).
        await withIndexProbes(client, () => client.query(
          `INSERT INTO core.event_participants (event_id, person_id, role)
           SELECT x.event, x.person, x.role FROM jsonb_to_recordset($1::jsonb) AS x(event uuid, person uuid, role text)
           JOIN core.events e ON e.id = x.event ON CONFLICT DO NOTHING`, [JSON.stringify(participants.filter((p) => p.event))]));
      }
    }
  }

  // 6. Outbox for persons and places the links created or touched.
  if (personLinks.size || placeLinks.size) await personPlaceOutbox(client, ctx, changed, personLinks, placeLinks);
  return { written, unchanged };
}

const EVENT_FIELDS = ['kind', 'category_code', 'title', 'occurred_at', 'status', 'level', 'severity', 'place_id', 'grid_code', 'closed_at'] as const;

const EVENT_INPUT = `jsonb_to_recordset($1::jsonb) AS x(id uuid, source_id uuid, kind text, category_code text, title text,
  occurred_at timestamptz, status text, level text, severity text, place_id uuid, grid_code text, closed_at timestamptz)`;
// References the category tree, places and grids only where they exist (a source may name a code the hub lacks).
const EVENT_VALUES = `SELECT x.id, x.source_id, x.kind, c.code AS category_code, x.title, x.occurred_at, x.status, x.level, x.severity,
         p.id AS place_id, g.code AS grid_code, x.closed_at
    FROM ${EVENT_INPUT}
    LEFT JOIN core.event_categories c ON c.code = x.category_code
    LEFT JOIN core.places p ON p.id = x.place_id
    LEFT JOIN core.grids g ON g.code = x.grid_code`;

/**
 * Upsert core.events for the changed rows and write an outbox row per event created or changed (with the
 * fields that changed). New and existing events go by separate statements, each feeding its outbox insert
 * from its own RETURNING — no join between the batch and the result, so the cost stays linear.
 */
async function projectEvents(client: PoolClient, ctx: StreamWriteContext, events: (Record<string, unknown> & { exists: boolean })[]): Promise<void> {
  const f = EVENT_FIELDS;
  const fresh = events.filter((e) => !e.exists);
  const known = events.filter((e) => e.exists);
  if (fresh.length) {
    await client.query(
      `WITH ins AS (
         INSERT INTO core.events (id, source_table, source_id, department, ${f.join(', ')})
         SELECT id, $2, source_id, $3, ${f.join(', ')} FROM (${EVENT_VALUES}) v
         ON CONFLICT (source_table, source_id) DO NOTHING
         RETURNING id, source_id, grid_code, kind, status)
       INSERT INTO hub.outbox (entity_type, entity_id, op, department, grid_code, changed_fields, data)
       SELECT 'Event', id, 'CREATE', $3, grid_code, ARRAY[${f.map((c) => `'${c}'`).join(', ')}]::text[],
              jsonb_build_object('kind', kind, 'status', status, 'sourceTable', $2::text, 'sourceId', source_id) FROM ins`,
      [JSON.stringify(fresh), ctx.target.name, ctx.department]);
  }
  if (known.length) {
    await client.query(
      `WITH v AS (
         SELECT n.*, ${f.map((c) => `o.${c} AS old_${c}`).join(', ')}
           FROM (${EVENT_VALUES}) n JOIN core.events o ON o.id = n.id),
       upd AS (
         UPDATE core.events e SET ${f.map((c) => `${c} = v.${c}`).join(', ')}, updated_at = now()
           FROM v WHERE e.id = v.id AND (${f.map((c) => `v.old_${c}`).join(', ')}) IS DISTINCT FROM (${f.map((c) => `v.${c}`).join(', ')})
         RETURNING e.id, e.source_id, e.grid_code, e.kind, e.status,
           array_remove(ARRAY[${f.map((c) => `CASE WHEN v.old_${c} IS DISTINCT FROM v.${c} THEN '${c}' END`).join(', ')}]::text[], NULL) AS changed)
       INSERT INTO hub.outbox (entity_type, entity_id, op, department, grid_code, changed_fields, data)
       SELECT 'Event', id, 'UPDATE', $3, grid_code, changed,
              jsonb_build_object('kind', kind, 'status', status, 'sourceTable', $2::text, 'sourceId', source_id) FROM upd`,
      [JSON.stringify(known), ctx.target.name, ctx.department]);
  }
}

async function personPlaceOutbox(client: PoolClient, ctx: StreamWriteContext, changed: Changed[], persons: Map<string, PersonLink>, places: Map<string, PlaceLink>): Promise<void> {
  const rowsByRef = new Map(changed.map((r) => [r.id, r]));
  const entries = new Map<string, { entity_type: string; entity_id: string; op: string; grid_code: string | null; changed_fields: string[] }>();
  for (const l of persons.values()) {
    const row = rowsByRef.get(l.ref.split('#')[0]!);
    const prior = entries.get(`Person:${l.personId}`);
    if (prior?.op === 'CREATE') continue;
    entries.set(`Person:${l.personId}`, {
      entity_type: 'Person', entity_id: l.personId, op: l.created ? 'CREATE' : 'UPDATE',
      grid_code: text(row?.values.grid_code), changed_fields: l.created ? [] : [ctx.target.name],
    });
  }
  const placeIds = [...new Set([...places.values()].map((l) => l.placeId).filter((x): x is string => !!x))];
  if (placeIds.length) {
    // A place this transaction made has created_at = now() (the transaction's timestamp).
    const { rows } = await client.query<{ id: string; grid_code: string | null }>(
      'SELECT id, grid_code FROM core.places WHERE id = ANY($1::uuid[]) AND created_at = now()', [placeIds]);
    for (const p of rows) entries.set(`Place:${p.id}`, { entity_type: 'Place', entity_id: p.id, op: 'CREATE', grid_code: p.grid_code, changed_fields: [] });
  }
  if (!entries.size) return;
  await client.query(
    `INSERT INTO hub.outbox (entity_type, entity_id, op, department, grid_code, changed_fields, data)
     SELECT entity_type, entity_id, op, $2, grid_code, changed_fields, jsonb_build_object('sourceTable', $3::text)
       FROM jsonb_to_recordset($1::jsonb) AS x(entity_type text, entity_id uuid, op text, grid_code text, changed_fields text[])`,
    [JSON.stringify([...entries.values()]), ctx.department, ctx.target.name]);
}

/**
 * Soft-deletes the rows of this connector that are not among `presentKeysSql` (a relation with a
 * `record_key` column: the shadow table of a full refresh), removes their core events and writes an outbox
 * DELETE for each. Returns the number of rows deleted.
 */
export async function softDeleteMissing(client: PoolClient, ctx: StreamWriteContext, presentKeysTable: string): Promise<number> {
  const hasEvent = ctx.target.has('event_id');
  const { rows } = await client.query<{ id: string; event_id: string | null }>(
    `WITH gone AS (
       SELECT t.id, ${hasEvent ? 't.event_id' : 'NULL::uuid AS event_id'} FROM ${quoteTable(ctx.target.name)} t
        WHERE t._connector_id = $1 AND t._deleted_at IS NULL
          AND NOT EXISTS (SELECT 1 FROM ${presentKeysTable} s WHERE s.record_key = t._record_key)
        FOR UPDATE),
     upd AS (UPDATE ${quoteTable(ctx.target.name)} t SET _deleted_at = now(), _synced_at = now()${hasEvent ? ', event_id = NULL' : ''}
               FROM gone WHERE t.id = gone.id RETURNING t.id)
     SELECT gone.id, gone.event_id FROM gone JOIN upd USING (id)`,
    [ctx.connectorId]);
  const eventIds = rows.map((r) => r.event_id).filter((x): x is string => !!x);
  if (eventIds.length) {
    await client.query(
      `WITH gone AS (DELETE FROM core.events WHERE id = ANY($1::uuid[]) RETURNING id, grid_code, kind, source_id)
       INSERT INTO hub.outbox (entity_type, entity_id, op, department, grid_code, changed_fields, data)
       SELECT 'Event', id, 'DELETE', $2, grid_code, '{}', jsonb_build_object('kind', kind, 'sourceTable', $3::text, 'sourceId', source_id) FROM gone`,
      [eventIds, ctx.department, ctx.target.name]);
  }
  return rows.length;
}
