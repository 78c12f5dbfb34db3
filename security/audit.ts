import { createHash } from 'node:crypto';
import type { Queryable } from '../platform/db';
import { HubError } from '../platform/errors';
import type { Identity } from './identity';
import { assertCan } from './scope';

/**
 * The audit log: every read of an unmasked sensitive field, every admin change and every denied request, in
 * `hub.audit_log` — append-only (no hub role may update or delete it; a trigger refuses it for everyone) and
 * hash-chained. The chain is computed by the database on insert (migrations/0500_audit_grants.sql) under a
 * lock on the chain-head row, so concurrent writers from several processes cannot fork it and no writer can
 * choose its own id, time or hash. `verifyChain` recomputes every hash here, independently of the database
 * function, and reports the first broken link.
 *
 * Recording is fail-closed: `record` throws when the row cannot be written, and a resolver that was about to
 * return unmasked data must then fail rather than answer unaudited.
 */
export type AuditKind = 'pii_read' | 'admin_change' | 'denied';
export const AUDIT_KINDS: readonly AuditKind[] = ['pii_read', 'admin_change', 'denied'];

export interface AuditEntry {
  /** Identity subject (`user-17`, `apikey:<id>`). */
  actor: string;
  role?: string | null;
  kind: AuditKind;
  /** GraphQL operation name (or mutation field) the access happened in. */
  operation?: string | null;
  /** core.persons ids concerned. Anything that is not a UUID is kept in detail.references instead. */
  persons?: string[];
  /** Sensitive fields returned unmasked (`Person.idNumber`), or changed. */
  fields?: string[];
  detail?: Record<string, unknown>;
}

export interface AuditRow {
  id: number;
  at: Date;
  actor: string;
  role: string | null;
  kind: AuditKind;
  operation: string | null;
  persons: string[];
  fields: string[];
  detail: Record<string, unknown>;
  prevHash: string | null;
  hash: string;
}

export interface AuditQuery {
  actor?: string;
  kind?: AuditKind;
  personId?: string;
  operation?: string;
  from?: Date | string;
  to?: Date | string;
  /** Newest first; at most 500 per page. */
  first?: number;
  /** Cursor: only entries with an id below this one. */
  beforeId?: number;
}

export interface ChainProblem {
  id: number;
  reason: string;
}

export interface ChainReport {
  ok: boolean;
  entries: number;
  /** Hash of the newest entry: publish it elsewhere (a log, a ticket) to anchor the chain against rewriting. */
  headHash: string | null;
  problems: ChainProblem[];
}

export interface AuditLog {
  record(entry: AuditEntry, client?: Queryable): Promise<{ id: number; at: Date; hash: string }>;
  /** Entries for a city admin (TL_ERR_FORBIDDEN for anyone else). */
  query(identity: Identity, filter?: AuditQuery): Promise<AuditRow[]>;
  verify(): Promise<ChainReport>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Build an entry for the identity making the request. */
export function auditEntry(identity: Identity, kind: AuditKind, rest: Omit<AuditEntry, 'actor' | 'role' | 'kind'> = {}): AuditEntry {
  return { actor: identity.sub, role: identity.role, kind, ...rest };
}

function normalise(entry: AuditEntry): [string, string | null, AuditKind, string | null, string[], string[], Record<string, unknown>] {
  if (!entry || typeof entry.actor !== 'string' || entry.actor === '') {
    throw new HubError('TL_ERR_BAD_USER_INPUT', 'Audit entry needs an actor');
  }
  if (!AUDIT_KINDS.includes(entry.kind)) {
    throw new HubError('TL_ERR_BAD_USER_INPUT', `Audit entry kind must be one of ${AUDIT_KINDS.join(', ')} (got ${JSON.stringify(entry.kind)})`);
  }
  const persons: string[] = [];
  const references: string[] = [];
  for (const p of entry.persons ?? []) (UUID.test(p) ? persons : references).push(p);
  const detail = { ...(entry.detail ?? {}) };
  if (references.length) detail.references = references;
  return [entry.actor, entry.role ?? null, entry.kind, entry.operation ?? null, [...new Set(persons)], [...new Set(entry.fields ?? [])], detail];
}

export function createAuditLog(pool: Queryable): AuditLog {
  return {
    async record(entry, client) {
      const values = normalise(entry);
      const { rows } = await (client ?? pool).query<{ id: number; at: Date; hash: string }>(
        `INSERT INTO hub.audit_log (actor, role, kind, operation, persons, fields, detail, hash)
         VALUES ($1, $2, $3, $4, $5::uuid[], $6::text[], $7::jsonb, '') RETURNING id, at, hash`,
        [...values.slice(0, 6), JSON.stringify(values[6])]);
      return rows[0]!;
    },
    query: (identity, filter) => queryAuditLog(pool, identity, filter),
    verify: () => verifyChain(pool),
  };
}

export async function queryAuditLog(pool: Queryable, identity: Identity, filter: AuditQuery = {}): Promise<AuditRow[]> {
  assertCan(identity, 'audit:read');
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, value: unknown) => {
    params.push(value);
    where.push(sql.replace('?', `$${params.length}`));
  };
  if (filter.actor) add('actor = ?', filter.actor);
  if (filter.kind) add('kind = ?', filter.kind);
  if (filter.operation) add('operation = ?', filter.operation);
  if (filter.personId) {
    if (!UUID.test(filter.personId)) throw new HubError('TL_ERR_BAD_USER_INPUT', `personId must be a UUID (got ${JSON.stringify(filter.personId)})`);
    add('persons @> ARRAY[?]::uuid[]', filter.personId);
  }
  if (filter.from) add('at >= ?', new Date(filter.from));
  if (filter.to) add('at < ?', new Date(filter.to));
  if (filter.beforeId) add('id < ?', filter.beforeId);
  const first = Math.min(Math.max(filter.first ?? 100, 1), 500);
  params.push(first);
  const { rows } = await pool.query(
    `SELECT id, at, actor, role, kind, operation, persons, fields, detail, prev_hash, hash FROM hub.audit_log
     ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT $${params.length}`, params);
  return rows.map((r) => ({
    id: Number(r.id), at: r.at, actor: r.actor, role: r.role, kind: r.kind, operation: r.operation,
    persons: r.persons ?? [], fields: r.fields ?? [], detail: r.detail ?? {}, prevHash: r.prev_hash, hash: r.hash,
  }));
}

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
const digest = (v: string | null) => (v === null ? '-' : sha256(v));

/** The hash of one entry given the previous hash and the entry's fields as PostgreSQL renders them in text. */
export function chainHash(prevHash: string | null, fieldsAsText: (string | null)[]): string {
  return sha256(`${prevHash ?? ''}|${fieldsAsText.map(digest).join('|')}`);
}

/**
 * Walk the whole chain in id order and recompute every hash. Detects an edited row (its hash no longer
 * matches its fields), a deleted or inserted row (the next row's prev_hash no longer matches), and a truncated
 * tail (the chain head no longer matches the last row). Needs SELECT on hub.audit_log and hub.audit_chain_head.
 */
export async function verifyChain(pool: Queryable, options: { batch?: number; maxProblems?: number } = {}): Promise<ChainReport> {
  const batch = options.batch ?? 5000;
  const maxProblems = options.maxProblems ?? 100;
  const problems: ChainProblem[] = [];
  let prev: string | null = null;
  let lastId = 0;
  let entries = 0;
  for (;;) {
    const { rows } = await pool.query<Record<string, string | null>>(
      `SELECT id::text AS id_text, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at, actor, role, kind,
              operation, persons::text AS persons, fields::text AS fields, detail::text AS detail, prev_hash, hash
         FROM hub.audit_log WHERE id > $1 ORDER BY hub.audit_log.id LIMIT $2`, [lastId, batch]);
    for (const r of rows) {
      const id = Number(r.id_text);
      if (r.prev_hash !== prev && problems.length < maxProblems) {
        problems.push({ id, reason: entries === 0 && prev === null
          ? `first entry links to ${r.prev_hash} instead of the chain start: earlier entries were deleted`
          : `prev_hash does not match the hash of the entry before it: an entry before ${id} was deleted, inserted or edited` });
      }
      const expected = chainHash(r.prev_hash, [r.id_text, r.at, r.actor, r.role, r.kind, r.operation, r.persons, r.fields, r.detail]);
      if (expected !== r.hash && problems.length < maxProblems) {
        problems.push({ id, reason: 'hash does not match the entry: the entry was edited' });
      }
      prev = r.hash;
      lastId = id;
      entries += 1;
    }
    if (rows.length < batch) break;
  }
  const { rows: head } = await pool.query<{ last_id: string | null; hash: string | null; entries: string }>(
    'SELECT last_id::text AS last_id, hash, entries::text AS entries FROM hub.audit_chain_head');
  const h = head[0];
  if (!h) {
    problems.push({ id: lastId, reason: 'the chain head row is missing' });
  } else {
    if (h.hash !== prev || Number(h.last_id ?? 0) !== lastId) {
      problems.push({ id: Number(h.last_id ?? 0), reason: `the chain head (entry ${h.last_id}) does not match the last entry (${lastId || 'none'}): entries at the end were deleted or added` });
    }
    if (Number(h.entries) !== entries) {
      problems.push({ id: lastId, reason: `the chain head counts ${h.entries} entries but the log holds ${entries}` });
    }
  }
  return { ok: problems.length === 0, entries, headHash: prev, problems };
}
