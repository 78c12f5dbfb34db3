import { uuidv7 } from '../../platform/uuidv7';
import { from as copyFrom } from 'pg-copy-streams';
import { finished, pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type { PoolClient } from '../../platform/db';
import type { Department } from '../../domain/departments';
import type { PersonLink, PersonMention, PlaceLink, PlaceMention } from '../../linking/types';
import type { EventDraft, StreamMapping } from '../mapping';
import { copyValue } from './copy-text';
import type { BesidePool } from '../../linking/beside';
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
  /**
   * rowCopyTail of this row, made ahead (used when the stream loads without linking). A row that has it may
   * carry empty `values`: without linking, writeRows reads nothing else of them.
   */
  copyTail?: string;
}

export interface StreamWriteContext {
  connectorId: string;
  department: Department;
  target: TargetTable;
  mapping: StreamMapping;
  /** Target columns the mapping writes (CompiledStream.columns). */
  columns: string[];
  linker: Linker | null;
  /**
   * Connections beside the batch's (the run's pool): linking links the batch's places and writes its key tables on
   * them, in transactions of their own, in parallel with the batch (linking/beside.ts), when one is free at once.
   */
  besidePool?: BesidePool;
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

/** The staging columns every row carries before its mapped values (see rowCopyTail). */
const TAIL_COLUMNS = ['_record_key', '_row_hash', '_source_updated_at'];

/**
 * The part of a row's staging line that depends only on the mapped row: record key, hash, source time, the
 * mapped values in `columns` order and (`withEvent`) the event projection's columns — COPY text, without the
 * trailing newline. The pipeline computes it while mapping (MappedRow.copyTail), so the batch's transaction
 * does not wait for the encoding; writeRows computes it itself when it is absent.
 */
export function rowCopyTail(r: Pick<MappedRow, 'key' | 'hash' | 'sourceUpdatedAt' | 'values' | 'event'>, columns: readonly string[], withEvent: boolean): string {
  let line = `${copyValue(r.key)}\t${copyValue(r.hash)}\t${copyValue(r.sourceUpdatedAt)}`;
  for (let i = 0; i < columns.length; i++) line += `\t${copyValue(r.values[columns[i]!])}`;
  if (withEvent) {
    const e = r.event;
    line += e
      ? `\t${copyValue(e.kind)}\t${copyValue(e.category_code)}\t${copyValue(e.title)}\t${copyValue(e.occurred_at)}\t${copyValue(e.status)}\t${copyValue(e.level)}\t${copyValue(e.severity)}\t${copyValue(e.closed_at)}`
      : '\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N';
  }
  return line;
}

/**
 * The person and place mentions of a batch's rows, as linking receives them: a mention per mapped person
 * (`mapping.persons`, ref `<row id>#p<i>`) and per party of the parties field (`<row id>#party<j>`) that has an
 * ID number or a name, and the row's address (`mapping.place`, ref `<row id>`). writeRows links the changed
 * rows' mentions.
 */
function linkingMentions(ctx: Pick<StreamWriteContext, 'department' | 'target' | 'connectorId' | 'mapping'>,
  rows: readonly { id: string; key: string; values: Record<string, unknown>; inserted?: boolean }[]): { persons: PersonMention[]; places: PlaceMention[] } {
  const { mapping, target } = ctx;
  const persons: PersonMention[] = [];
  const places: PlaceMention[] = [];
  for (const r of rows) {
    // A row inserted by this batch has a new id: its mentions cannot be linked yet (linking skips their look-up).
    const base = { department: ctx.department, sourceTable: target.name, recordId: r.id, recordKey: r.key, connectorId: ctx.connectorId, ...(r.inserted ? { newRecord: true } : {}) };
    mapping.persons?.forEach((p, i) => {
      const m: PersonMention = { ref: `${r.id}#p${i}`, ...base };
      for (const k of PERSON_KEYS) {
        const f = p[k];
        if (f) (m as unknown as Record<string, unknown>)[k] = k === 'sex' ? sexOf(r.values[f]) : text(r.values[f]);
      }
      if (m.idNumber || m.name) persons.push(m);
    });
    const parties = mapping.parties ? r.values[mapping.parties.field] : null;
    if (Array.isArray(parties)) {
      parties.forEach((party: Record<string, unknown>, j) => {
        const m: PersonMention = {
          ref: `${r.id}#party${j}`, ...base, idNumber: text(party.idNumber), name: text(party.name), sex: sexOf(party.sex),
          birthDate: text(party.birthDate), phone: text(party.phone), address: text(party.address),
        };
        if (m.idNumber || m.name) persons.push(m);
      });
    }
    const address = mapping.place ? text(r.values[mapping.place.address]) : null;
    if (address) places.push({ ref: r.id, address });
  }
  return { persons, places };
}

/** Whether a stream's rows carry an event projection into the staging table (writeRows' `hasEvent`). */
export function stagesEvent(ctx: Pick<StreamWriteContext, 'mapping' | 'target'>): boolean {
  return !!ctx.mapping.event && ctx.target.has('event_id');
}

/**
 * Lines gathered into chunks of about 256 KB: one CopyData message per line would cost a write each. Each line
 * is UTF-8-encoded straight into the chunk's buffer (no joined string, no second copy).
 */
export function* chunked(lines: Iterable<string>, size = 256 * 1024): Generator<Buffer> {
  let buf = Buffer.allocUnsafe(size);
  let used = 0;
  for (const line of lines) {
    // A UTF-16 code unit is at most 3 bytes of UTF-8 (a surrogate pair: 4 bytes for 2 units).
    const room = line.length * 3;
    if (used + room > buf.length) {
      if (used) yield buf.subarray(0, used);
      buf = Buffer.allocUnsafe(Math.max(size, room));
      used = 0;
    }
    used += buf.write(line, used, 'utf8');
  }
  if (used) yield buf.subarray(0, used);
}

export async function copyRows(client: PoolClient, table: string, columns: string[], lines: Iterable<string>): Promise<void> {
  const sql = `COPY ${table} (${columns.map(quoteIdent).join(', ')}) FROM STDIN`;
  const stream = client.query(copyFrom(sql));
  await pipeline(Readable.from(chunked(lines)), stream);
}

/**
 * COPY of one batch (a bounded number of lines): all of it handed to the socket at once, then the end. The
 * streaming form (copyRows) hands a chunk each time the stream drains, which needs a turn of the event loop —
 * and the pipeline maps the next batch meanwhile, so the server waited for its data between chunks (~40% of
 * the batch's COPY time, measured). A batch is a few MB: buffering it whole is cheap.
 */
export async function copyBatch(client: PoolClient, table: string, columns: string[], lines: Iterable<string>): Promise<void> {
  const sql = `COPY ${table} (${columns.map(quoteIdent).join(', ')}) FROM STDIN`;
  const stream = client.query(copyFrom(sql));
  const done = finished(stream);
  try {
    for (const chunk of chunked(lines, 1024 * 1024)) stream.write(chunk);
  } catch (err) {
    stream.destroy(err as Error);
  }
  stream.end();
  await done;
}

/**
 * A temp table (per session) shaped like the given columns of the target (plus the event projection's columns),
 * emptied before each use. CREATE … IF NOT EXISTS every time (one round trip with the TRUNCATE): a table made in
 * a transaction that rolled back is gone, and a pooled session must not believe it still has it.
 */
async function stageTable(client: PoolClient, target: TargetTable, columns: string[], withEvent: boolean): Promise<string> {
  const name = `tl_stage_${target.schema}_${target.table}_${columns.length}${withEvent ? 'e' : ''}n_${hashOf(columns.join(','))}`;
  const extra = `, NULL::boolean AS st_new${withEvent ? `, ${EVENT_STAGE.map(([c, t]) => `NULL::${t} AS ${c}`).join(', ')}` : ''}`;
  await client.query(`SET LOCAL client_min_messages = warning;
    CREATE TEMP TABLE IF NOT EXISTS ${name} AS SELECT ${columns.map(quoteIdent).join(', ')}${extra} FROM ${quoteTable(target.name)} WITH NO DATA;
    TRUNCATE ${name}; SET LOCAL client_min_messages TO DEFAULT`);
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
 * JIT off as well: the disabled plan types weigh 10^10 in the planner's costs, which made every such statement
 * "expensive" enough to be JIT-compiled — 0.3–0.4 s of compilation per batch for a statement that runs in 0.1 s.
 */
async function withIndexProbes<T>(client: PoolClient, statement: () => Promise<T>): Promise<T> {
  await client.query(`SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_hashjoin = off;
    SET LOCAL enable_mergejoin = off; SET LOCAL enable_material = off; SET LOCAL jit = off`);
  try {
    return await statement();
  } finally {
    await client.query(`SET LOCAL enable_seqscan TO DEFAULT; SET LOCAL enable_bitmapscan TO DEFAULT; SET LOCAL enable_hashjoin TO DEFAULT;
      SET LOCAL enable_mergejoin TO DEFAULT; SET LOCAL enable_material TO DEFAULT; SET LOCAL jit TO DEFAULT`).catch(() => undefined);
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
  const hasEvent = stagesEvent(ctx);
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
    changed.push({
      key: r.key, hash: r.hash, sourceUpdatedAt: r.sourceUpdatedAt, values: r.values, ...(r.event ? { event: r.event } : {}), ...(r.copyTail !== undefined ? { copyTail: r.copyTail } : {}),
      id: e?.id ?? uuidv7(), eventId: hasEvent && r.event ? e?.eventId ?? uuidv7() : null, inserted: !e, eventExists: !!e?.eventId,
    });
  }
  const unchanged = rows.length - changed.length + duplicates;
  if (!changed.length) return { written: 0, unchanged };

  // 2. Linking of the changed rows' persons and address.
  const extraColumns: string[] = [];
  const personLinks = new Map<string, PersonLink>();
  const placeLinks = new Map<string, PlaceLink>();
  if (ctx.linker) {
    const { persons: personMentions, places: placeMentions } = linkingMentions(ctx, changed);
    // Places and persons together: the persons' residences take the places their records' addresses were linked to.
    const links = await ctx.linker.linkBatch(client, placeMentions, personMentions, ctx.besidePool ? { besidePool: ctx.besidePool } : {});
    for (const l of links.places) placeLinks.set(l.ref, l);
    for (const l of links.persons) personLinks.set(l.ref, l);
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

  // 3. Staging by COPY: the department row and, beside it, the event projection's columns (no jsonb parameter
  // to bind and unpack on the server).
  const columns = ['id', '_record_key', '_row_hash', '_source_updated_at', ...ctx.columns, ...extraColumns, ...(hasEvent ? ['event_id'] : [])];
  const valueColumns = [...ctx.columns, ...extraColumns];
  const stage = await stageTable(client, target, columns, hasEvent);
  // Column order of the COPY: what this batch decides (new or not, ids, links) first, then the row's own
  // encoding (rowCopyTail), which the pipeline prepares while the batch before is being written.
  const copyColumns = ['st_new', 'id', ...(hasEvent ? ['event_id', 'ev_exists'] : []), ...extraColumns, ...TAIL_COLUMNS, ...ctx.columns,
    ...(hasEvent ? EVENT_STAGE.slice(1).map(([c]) => c) : [])];
  const usePrepared = !ctx.linker; // linking may change mapped values (grid_code, a person column): encode them now
  await copyBatch(client, stage, copyColumns, (function* () {
    for (const r of changed) {
      let line = `${r.inserted ? 't' : 'f'}\t${r.id}`;
      if (hasEvent) line += r.eventId ? `\t${r.eventId}\t${r.eventExists ? 't' : 'f'}` : '\t\\N\t\\N';
      for (const c of extraColumns) line += `\t${copyValue(r.values[c])}`;
      yield `${line}\t${(usePrepared ? r.copyTail : undefined) ?? rowCopyTail(r, ctx.columns, hasEvent)}\n`;
    }
  })());

  // 4. One statement: the set-based merge (unchanged rows are skipped by the hash guard as well) and, as
  // data-modifying CTEs of the same statement, the event projection and the events' outbox rows.
  const cols = columns.map(quoteIdent).join(', ');
  const updates = columns.filter((c) => c !== 'id' && c !== '_record_key').map((c) => `${quoteIdent(c)} = excluded.${quoteIdent(c)}`);
  // Rows whose key the pre-read did not find (new ids, made above) are inserted plainly; the others go through
  // ON CONFLICT … DO UPDATE. A plain insert skips the speculative-insertion protocol (an arbiter probe, a
  // speculative token, its confirmation per row): ~30% of an insert's server time, measured. Nothing is weakened:
  // the UNIQUE (_connector_id, _record_key) index still refuses a duplicate — a row of this connector written
  // by anyone else since the pre-read (impossible under the run's connector lock) fails the batch, which rolls
  // back whole and is retried, never merged twice.
  const anyNew = changed.some((r) => r.inserted);
  const anyKnown = changed.some((r) => !r.inserted);
  const insertNew = `INSERT INTO ${quoteTable(target.name)} (${cols}, _connector_id, _synced_at, _deleted_at)
     SELECT ${cols}, $1::uuid, now(), NULL FROM ${stage} WHERE st_new
     RETURNING 1`;
  const upsertKnown = `INSERT INTO ${quoteTable(target.name)} AS t (${cols}, _connector_id, _synced_at, _deleted_at)
     SELECT ${cols}, $1::uuid, now(), NULL FROM ${stage} WHERE NOT st_new
     ON CONFLICT (_connector_id, _record_key) DO UPDATE SET ${updates.join(', ')}, _synced_at = now(), _deleted_at = NULL
     WHERE t._row_hash IS DISTINCT FROM excluded._row_hash OR t._deleted_at IS NOT NULL
     RETURNING 1`;
  const merges = [...(anyNew ? [insertNew] : []), ...(anyKnown ? [upsertKnown] : [])];
  let written: number;
  if (hasEvent) {
    const freshOfNew = changed.some((r) => r.eventId && r.event && !r.eventExists && r.inserted);
    const freshOfKnown = changed.some((r) => r.eventId && r.event && !r.eventExists && !r.inserted);
    const known = changed.some((r) => r.eventId && r.event && r.eventExists);
    const sql = eventStatement(merges, stage, {
      place: valueColumns.includes('place_id') && target.has('place_id'),
      grid: valueColumns.includes('grid_code') && target.has('grid_code'),
      freshOfNew, freshOfKnown, known,
    });
    // Index probes only: the statement joins the batch to core.events (known events) and core.places, tables
    // that grow during a run while their statistics lag (see withIndexProbes).
    const { rows: [res] } = await withIndexProbes(client, () => client.query<{ written: number }>(sql, [ctx.connectorId, target.name, ctx.department]));
    written = res?.written ?? 0;
  } else {
    if (merges.length === 1) written = (await client.query(merges[0]!, [ctx.connectorId])).rowCount ?? 0;
    else {
      const { rows: [res] } = await client.query<{ written: number }>(
        `WITH m1 AS (${merges[0]}), m2 AS (${merges[1]}) SELECT ((SELECT count(*) FROM m1) + (SELECT count(*) FROM m2))::int AS written`, [ctx.connectorId]);
      written = res?.written ?? 0;
    }
  }

  // 5. Parties of the record (department table) and the events' participants.
  const participants: { record: string; event: string | null; person: string; role: string }[] = [];
  if (ctx.linker) {
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
  }
  // Only rows and events that existed before this batch can have parties / participants to replace (a first
  // load deletes nothing). Then both inserts in one statement from one parameter.
  const partiesTable = target.parties && ctx.linker ? target.parties : null;
  const withParticipants = hasEvent && !!ctx.linker;
  if (partiesTable) {
    const before = changed.filter((r) => !r.inserted).map((r) => r.id);
    if (before.length) await client.query(`DELETE FROM ${quoteTable(partiesTable.table)} WHERE ${quoteIdent(partiesTable.fk)} = ANY($1::uuid[])`, [before]);
  }
  if (withParticipants) {
    const before = changed.filter((r) => r.event && r.eventId && r.eventExists).map((r) => r.eventId);
    if (before.length) await client.query('DELETE FROM core.event_participants WHERE event_id = ANY($1::uuid[])', [before]);
  }
  if (participants.length && (partiesTable || withParticipants)) {
    const ctes = ['x AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(record uuid, event uuid, person uuid, role text))'];
    const insertParties = partiesTable
      ? `INSERT INTO ${quoteTable(partiesTable.table)} (${quoteIdent(partiesTable.fk)}, person_id, role) SELECT record, person, role FROM x ON CONFLICT DO NOTHING`
      : null;
    // The join keeps only events that exist; as index probes (it was a sequential scan of all of core.events
    // per batch while the table's statistics lagged behind its growth).
    const insertParticipants = withParticipants
      ? `INSERT INTO core.event_participants (event_id, person_id, role)
         SELECT x.event, x.person, x.role FROM x JOIN core.events e ON e.id = x.event ON CONFLICT DO NOTHING`
      : null;
    if (insertParties && insertParticipants) ctes.push(`p AS (${insertParties})`);
    await withIndexProbes(client, () => client.query(`WITH ${ctes.join(', ')} ${insertParticipants ?? insertParties}`, [JSON.stringify(participants)]));
  }

  // 6. Outbox for persons and places the links created or touched.
  if (personLinks.size || placeLinks.size) await personPlaceOutbox(client, ctx, changed, personLinks, placeLinks);
  return { written, unchanged };
}

const EVENT_FIELDS = ['kind', 'category_code', 'title', 'occurred_at', 'status', 'level', 'severity', 'place_id', 'grid_code', 'closed_at'] as const;

/** The event projection's columns in the staging table (beside the department row's `event_id`). */
const EVENT_STAGE: [string, string][] = [
  ['ev_exists', 'boolean'], ['ev_kind', 'text'], ['ev_category_code', 'text'], ['ev_title', 'text'], ['ev_occurred_at', 'timestamptz'],
  ['ev_status', 'text'], ['ev_level', 'text'], ['ev_severity', 'text'], ['ev_closed_at', 'timestamptz'],
];

/**
 * The merge statement extended by the event projection: core.events inserted (new events) or updated (known
 * events whose fields changed), and an outbox row per event created or changed (with the fields that changed),
 * fed by each write's own RETURNING — no join between the batch and the result, so the cost stays linear.
 * The category tree, places and grids are referenced only where they exist (a source may name a code the hub
 * lacks: stored as null). $1 connector, $2 source table, $3 department. Returns `written` (merged rows).
 */
function eventStatement(merges: string[], stage: string, o: { place: boolean; grid: boolean; freshOfNew: boolean; freshOfKnown: boolean; known: boolean }): string {
  const f = EVENT_FIELDS;
  const ctes = [...merges.map((m, i) => `m${i} AS (${m})`),
    `v AS (
       SELECT s.event_id AS id, s.id AS source_id, s.ev_kind AS kind, c.code AS category_code, s.ev_title AS title, s.ev_occurred_at AS occurred_at,
              s.ev_status AS status, s.ev_level AS level, s.ev_severity AS severity, ${o.place ? 'p.id' : 'NULL::uuid'} AS place_id,
              ${o.grid ? 'g.code' : 'NULL::text'} AS grid_code, s.ev_closed_at AS closed_at, s.ev_exists AS known, s.st_new AS new_row
         FROM ${stage} s
         LEFT JOIN core.event_categories c ON c.code = s.ev_category_code
         ${o.place ? 'LEFT JOIN core.places p ON p.id = s.place_id' : ''}
         ${o.grid ? 'LEFT JOIN core.grids g ON g.code = s.grid_code' : ''}
        WHERE s.ev_kind IS NOT NULL)`];
  const outbox: string[] = [];
  // New events of rows new in this batch: their source_id is the row's id, made by this batch, so no event can
  // have it yet — a plain insert (the UNIQUE (source_table, source_id) index still guards it). Events of rows
  // that existed but had none keep ON CONFLICT DO NOTHING.
  const fresh: [string, boolean][] = [...(o.freshOfNew ? [['ins', true] as [string, boolean]] : []), ...(o.freshOfKnown ? [['ins2', false] as [string, boolean]] : [])];
  for (const [name, ofNew] of fresh) {
    ctes.push(`${name} AS (
       INSERT INTO core.events (id, source_table, source_id, department, ${f.join(', ')})
       SELECT id, $2, source_id, $3, ${f.join(', ')} FROM v WHERE NOT v.known AND ${ofNew ? 'v.new_row' : 'NOT v.new_row'}
       ${ofNew ? '' : 'ON CONFLICT (source_table, source_id) DO NOTHING'}
       RETURNING id, source_id, grid_code, kind, status)`);
    outbox.push(`SELECT 'Event', id, 'CREATE', $3, grid_code, ARRAY[${f.map((c) => `'${c}'`).join(', ')}]::text[],
              jsonb_build_object('kind', kind, 'status', status, 'sourceTable', $2::text, 'sourceId', source_id) FROM ${name}`);
  }
  if (o.known) {
    ctes.push(`old AS (
       SELECT v.*, ${f.map((c) => `o.${c} AS old_${c}`).join(', ')} FROM v JOIN core.events o ON o.id = v.id WHERE v.known)`);
    ctes.push(`upd AS (
       UPDATE core.events e SET ${f.map((c) => `${c} = old.${c}`).join(', ')}, updated_at = now()
         FROM old WHERE e.id = old.id AND (${f.map((c) => `old.old_${c}`).join(', ')}) IS DISTINCT FROM (${f.map((c) => `old.${c}`).join(', ')})
       RETURNING e.id, e.source_id, e.grid_code, e.kind, e.status,
         array_remove(ARRAY[${f.map((c) => `CASE WHEN old.old_${c} IS DISTINCT FROM old.${c} THEN '${c}' END`).join(', ')}]::text[], NULL) AS changed)`);
    outbox.push(`SELECT 'Event', id, 'UPDATE', $3, grid_code, changed,
              jsonb_build_object('kind', kind, 'status', status, 'sourceTable', $2::text, 'sourceId', source_id) FROM upd`);
  }
  if (outbox.length) {
    ctes.push(`ob AS (
       INSERT INTO hub.outbox (entity_type, entity_id, op, department, grid_code, changed_fields, data)
       ${outbox.join('\n       UNION ALL ')})`);
  }
  const written = merges.map((_, i) => `(SELECT count(*) FROM m${i})`).join(' + ');
  return `WITH ${ctes.join(',\n     ')}\n     SELECT (${written})::int AS written`;
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
