import type pg from 'pg';
import type { StreamInfo } from '../contract';
import { validateAgainstSpec } from '../config-validation';
import { connect, classifyPostgresError } from './client';
import { postgresSpec, type PostgresConfig } from './spec';

export interface PostgresColumn {
  table: string;
  name: string;
  /** A type usable in a cast (`$1::timestamp with time zone`). */
  castType: string;
  nullable: boolean;
}

const TEMPORAL = /^(timestamp|date)/;
const INTEGER = /^(smallint|integer|bigint)$/;
// Update times first (English and pinyin-initial names: gxsj = 更新时间), then other times.
const UPDATE_NAME = /updat|modif|chang|gxsj|更新/i;
const TIME_NAME = /_at$|time|sj$|时间/i;
const rank = (name: string) => (UPDATE_NAME.test(name) ? 2 : TIME_NAME.test(name) ? 1 : 0);

export function isTemporalType(type: string): boolean {
  return TEMPORAL.test(type);
}

/** Columns of the tables and views of one schema (or one table), from information_schema. */
export async function listColumns(client: pg.Client, schema: string, table?: string): Promise<PostgresColumn[]> {
  const { rows } = await client.query<{ table_name: string; column_name: string; data_type: string; udt_schema: string; udt_name: string; is_nullable: string }>(
    `SELECT table_name, column_name, data_type, udt_schema, udt_name, is_nullable
       FROM information_schema.columns
      WHERE table_schema = $1 AND ($2::text IS NULL OR table_name = $2)
      ORDER BY table_name, ordinal_position`, [schema, table ?? null]);
  return rows.map((r) => ({
    table: r.table_name,
    name: r.column_name,
    castType: r.data_type === 'USER-DEFINED' ? `"${r.udt_schema}"."${r.udt_name}"`
      : r.data_type === 'ARRAY' ? `"${r.udt_schema}"."${r.udt_name}"` : r.data_type,
    nullable: r.is_nullable === 'YES',
  }));
}

export async function listPrimaryKeys(client: pg.Client, schema: string): Promise<Map<string, string[]>> {
  const { rows } = await client.query<{ table_name: string; column_name: string }>(
    `SELECT kcu.table_name, kcu.column_name
       FROM information_schema.table_constraints tc
       JOIN information_schema.key_column_usage kcu
         ON kcu.constraint_schema = tc.constraint_schema AND kcu.constraint_name = tc.constraint_name
        AND kcu.table_name = tc.table_name
      WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema = $1
      ORDER BY kcu.table_name, kcu.ordinal_position`, [schema]);
  const keys = new Map<string, string[]>();
  for (const r of rows) keys.set(r.table_name, [...(keys.get(r.table_name) ?? []), r.column_name]);
  return keys;
}

/** Columns that can drive an incremental read: change times first, then a growing integer key. */
export function cursorCandidates(columns: { name: string; type: string }[], primaryKey: string[], temporal: (t: string) => boolean, integer: (t: string) => boolean): string[] {
  const times = columns.filter((c) => temporal(c.type)).map((c) => c.name);
  times.sort((a, b) => rank(b) - rank(a));
  const ids = primaryKey.length === 1 && columns.some((c) => c.name === primaryKey[0] && integer(c.type)) ? [primaryKey[0]!] : [];
  return [...times, ...ids];
}

export async function discoverPostgres(raw: Record<string, unknown>): Promise<StreamInfo[]> {
  const config = validateAgainstSpec<PostgresConfig>(postgresSpec, raw);
  const client = await connect(config);
  try {
    const [columns, keys] = await Promise.all([listColumns(client, config.schema), listPrimaryKeys(client, config.schema)]);
    const byTable = new Map<string, PostgresColumn[]>();
    for (const c of columns) byTable.set(c.table, [...(byTable.get(c.table) ?? []), c]);
    return [...byTable].map(([table, cols]) => {
      const primaryKey = keys.get(table) ?? [];
      const typed = cols.map((c) => ({ name: c.name, type: c.castType, nullable: c.nullable }));
      return {
        name: table,
        columns: typed,
        primaryKey,
        cursorCandidates: cursorCandidates(typed, primaryKey, isTemporalType, (t) => INTEGER.test(t)),
      };
    });
  } catch (err) {
    throw classifyPostgresError(err, config);
  } finally {
    await client.end().catch(() => undefined);
  }
}
