import { randomUUID } from 'node:crypto';
import type { Queryable } from '../platform/db';
import { HubError } from '../platform/errors';
import { decryptSecret, encryptSecret } from '../platform/secrets';
import { isDepartment, type Department } from '../domain/departments';
import { getConnectorKind, joinSecrets, redactSecrets, splitSecrets, validateConnectorConfig } from '../connectors/registry';
import type { StreamConfig } from '../connectors/contract';
import { validateMapping, type Mapping } from './mapping';

/**
 * Configured connectors (hub.connectors): validation on every write (kind, settings against the kind's spec,
 * streams, mapping against the mapping schema, schedule), secret settings split off and sealed with
 * platform/secrets.ts (bound to the connector's id), and the public view with secrets absent.
 */
export type Schedule = { cron: string; tz?: string } | { everyMs: number };

export interface ConnectorInput {
  department: Department;
  name: string;
  kind: string;
  config: Record<string, unknown>;
  streams: StreamConfig[];
  mapping: Mapping;
  schedule?: Schedule | null;
  paused?: boolean;
}

export interface ConnectorRecord {
  id: string;
  department: Department;
  name: string;
  kind: string;
  /** Settings without secrets (what may be shown). */
  config: Record<string, unknown>;
  /** Names of secret settings that are set (their values never leave the store). */
  secretFields: string[];
  streams: StreamConfig[];
  mapping: Mapping;
  schedule: Schedule | null;
  paused: boolean;
  origin: 'api' | 'file';
  createdAt: Date;
  updatedAt: Date;
}

interface Row {
  id: string; department: Department; name: string; kind: string; config: Record<string, unknown>; secrets: unknown;
  streams: StreamConfig[]; mapping: Mapping; schedule: Schedule | null; paused: boolean; origin: 'api' | 'file';
  created_at: Date; updated_at: Date;
}

const secretContext = (id: string) => `hub.connectors/${id}`;

function flatKeys(obj: unknown, prefix = ''): string[] {
  if (!obj || typeof obj !== 'object') return prefix ? [prefix] : [];
  return Object.entries(obj).flatMap(([k, v]) => (v !== null && typeof v === 'object' ? flatKeys(v, `${prefix}${k}.`) : v === undefined || v === null || v === '' ? [] : [`${prefix}${k}`]));
}

function toRecord(row: Row): ConnectorRecord {
  let secretFields: string[] = [];
  if (row.secrets) {
    try { secretFields = flatKeys(decryptSecret(row.secrets, secretContext(row.id))); } catch { secretFields = ['(unreadable)']; }
  }
  return {
    id: row.id, department: row.department, name: row.name, kind: row.kind, config: row.config, secretFields,
    streams: row.streams, mapping: row.mapping, schedule: row.schedule, paused: row.paused, origin: row.origin,
    createdAt: row.created_at, updatedAt: row.updated_at,
  };
}

function validateSchedule(s: unknown): Schedule | null {
  if (s === undefined || s === null) return null;
  const o = s as Record<string, unknown>;
  if (typeof o.everyMs === 'number' && Number.isInteger(o.everyMs) && o.everyMs >= 1000 && Object.keys(o).length === 1) return { everyMs: o.everyMs };
  if (typeof o.cron === 'string' && /^(\S+\s+){4,5}\S+$/.test(o.cron.trim())) return { cron: o.cron.trim(), ...(typeof o.tz === 'string' ? { tz: o.tz } : {}) };
  throw new HubError('TL_ERR_CONNECTOR_CONFIG', 'schedule: give {"cron": "<5 or 6 fields>"} or {"everyMs": <integer ≥ 1000>}', { field: 'schedule' });
}

function validateStreams(streams: unknown, mapping: Mapping): StreamConfig[] {
  if (!Array.isArray(streams) || !streams.length) throw new HubError('TL_ERR_CONNECTOR_CONFIG', 'streams: select at least one stream', { field: 'streams' });
  const targets = new Map<string, string>();
  return streams.map((s: Partial<StreamConfig>, i) => {
    const at = `streams[${i}]`;
    if (!s || typeof s.name !== 'string' || !s.name) throw new HubError('TL_ERR_CONNECTOR_CONFIG', `${at}.name: required`, { field: `${at}.name` });
    const m = mapping.streams[s.name];
    if (!m) throw new HubError('TL_ERR_CONNECTOR_CONFIG', `${at}: the mapping has no entry for stream "${s.name}" (mapping/streams/${s.name})`, { field: `${at}.name` });
    // Deletes are reconciled per target table and connector, so two streams may not share one.
    const other = targets.get(m.target);
    if (other) throw new HubError('TL_ERR_CONNECTOR_CONFIG', `${at}: streams "${other}" and "${s.name}" both write ${m.target}; use one connector per stream for that`, { field: `${at}.name` });
    targets.set(m.target, s.name);
    const primaryKey = Array.isArray(s.primaryKey) ? s.primaryKey.map(String) : m.key ?? [];
    if (!primaryKey.length) throw new HubError('TL_ERR_CONNECTOR_CONFIG', `${at}.primaryKey: required (or mapping/streams/${s.name}/key)`, { field: `${at}.primaryKey` });
    if (s.lookbackSeconds !== undefined && (!Number.isInteger(s.lookbackSeconds) || s.lookbackSeconds < 0)) {
      throw new HubError('TL_ERR_CONNECTOR_CONFIG', `${at}.lookbackSeconds: a whole number of seconds ≥ 0`, { field: `${at}.lookbackSeconds` });
    }
    return { name: s.name, primaryKey, ...(s.cursorField ? { cursorField: String(s.cursorField) } : {}), ...(s.lookbackSeconds !== undefined ? { lookbackSeconds: s.lookbackSeconds } : {}) };
  });
}

/** Validate an input completely; returns the public config and the secrets to seal. */
export function validateConnectorInput(input: ConnectorInput, previousSecrets: Record<string, unknown> | null = null) {
  if (!isDepartment(input.department)) throw new HubError('TL_ERR_CONNECTOR_CONFIG', `department: unknown department "${String(input.department)}"`, { field: 'department' });
  if (typeof input.name !== 'string' || !/^[\p{L}\p{N}][\p{L}\p{N} _.-]{0,79}$/u.test(input.name)) {
    throw new HubError('TL_ERR_CONNECTOR_CONFIG', 'name: 1–80 letters, digits, spaces, _ . -', { field: 'name' });
  }
  const kind = getConnectorKind(input.kind);
  // An update may leave secrets out (or send the redacted placeholder): the stored ones are kept.
  const full = joinSecrets(input.config ?? {}, previousSecrets);
  const config = validateConnectorConfig(input.kind, full) as Record<string, unknown>;
  const split = splitSecrets(kind.spec(), config);
  const mapping = validateMapping(input.mapping, input.department);
  const streams = validateStreams(input.streams, mapping);
  const schedule = validateSchedule(input.schedule);
  return { config: split.config, secrets: split.secrets, mapping, streams, schedule };
}

const COLUMNS = 'id, department, name, kind, config, secrets, streams, mapping, schedule, paused, origin, created_at, updated_at';

export async function createConnector(db: Queryable, input: ConnectorInput, origin: 'api' | 'file' = 'api'): Promise<ConnectorRecord> {
  const v = validateConnectorInput(input);
  const id = randomUUID();
  try {
    const { rows } = await db.query<Row>(
      `INSERT INTO hub.connectors (id, department, name, kind, config, secrets, streams, mapping, schedule, paused, origin)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING ${COLUMNS}`,
      [id, input.department, input.name, input.kind, v.config, Object.keys(v.secrets).length ? JSON.stringify(encryptSecret(v.secrets, secretContext(id))) : null,
        JSON.stringify(v.streams), v.mapping, v.schedule, input.paused ?? false, origin]);
    return toRecord(rows[0]!);
  } catch (err) {
    if ((err as { code?: string }).code === '23505') throw new HubError('TL_ERR_CONFLICT', `A ${input.department} connector named "${input.name}" exists already`, { field: 'name' });
    throw err;
  }
}

export async function updateConnector(db: Queryable, id: string, input: ConnectorInput): Promise<ConnectorRecord> {
  const { rows: prior } = await db.query<Row>(`SELECT ${COLUMNS} FROM hub.connectors WHERE id = $1`, [id]);
  const old = prior[0];
  if (!old) throw new HubError('TL_ERR_NOT_FOUND', `No connector ${id}`);
  if (input.department !== old.department) throw new HubError('TL_ERR_BAD_USER_INPUT', 'department: a connector cannot move to another department', { field: 'department' });
  const oldSecrets = old.secrets && input.kind === old.kind ? decryptSecret(old.secrets, secretContext(id)) as Record<string, unknown> : null;
  const v = validateConnectorInput(input, oldSecrets);
  try {
    const { rows } = await db.query<Row>(
      `UPDATE hub.connectors SET name = $2, kind = $3, config = $4, secrets = $5, streams = $6, mapping = $7, schedule = $8,
              paused = $9, updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`,
      [id, input.name, input.kind, v.config, Object.keys(v.secrets).length ? JSON.stringify(encryptSecret(v.secrets, secretContext(id))) : null,
        JSON.stringify(v.streams), v.mapping, v.schedule, input.paused ?? old.paused]);
    return toRecord(rows[0]!);
  } catch (err) {
    if ((err as { code?: string }).code === '23505') throw new HubError('TL_ERR_CONFLICT', `A ${input.department} connector named "${input.name}" exists already`, { field: 'name' });
    throw err;
  }
}

export async function getConnector(db: Queryable, id: string): Promise<ConnectorRecord | null> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return null;
  const { rows } = await db.query<Row>(`SELECT ${COLUMNS} FROM hub.connectors WHERE id = $1`, [id]);
  return rows[0] ? toRecord(rows[0]) : null;
}

export async function listConnectors(db: Queryable, department?: Department | null): Promise<ConnectorRecord[]> {
  const { rows } = await db.query<Row>(`SELECT ${COLUMNS} FROM hub.connectors WHERE ($1::text IS NULL OR department = $1) ORDER BY department, name`, [department ?? null]);
  return rows.map(toRecord);
}

export async function deleteConnector(db: Queryable, id: string): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM hub.connectors WHERE id = $1', [id]);
  return (rowCount ?? 0) > 0;
}

export async function setPaused(db: Queryable, id: string, paused: boolean): Promise<ConnectorRecord> {
  const { rows } = await db.query<Row>(`UPDATE hub.connectors SET paused = $2, updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`, [id, paused]);
  if (!rows[0]) throw new HubError('TL_ERR_NOT_FOUND', `No connector ${id}`);
  return toRecord(rows[0]);
}

/** The connector's full settings, secrets included, for the worker and check/discover. Never return this to a client. */
export async function connectorSettings(db: Queryable, id: string): Promise<{ record: ConnectorRecord; config: Record<string, unknown> }> {
  const { rows } = await db.query<Row>(`SELECT ${COLUMNS} FROM hub.connectors WHERE id = $1`, [id]);
  const row = rows[0];
  if (!row) throw new HubError('TL_ERR_NOT_FOUND', `No connector ${id}`);
  const secrets = row.secrets ? decryptSecret(row.secrets, secretContext(id)) as Record<string, unknown> : null;
  return { record: toRecord(row), config: joinSecrets(row.config, secrets) };
}

/** A configuration fit to show: secrets absent, as the spec marks them. */
export function publicConfig(record: ConnectorRecord): Record<string, unknown> {
  return redactSecrets(getConnectorKind(record.kind).spec(), record.config);
}
