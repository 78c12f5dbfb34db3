import type mysql from 'mysql2/promise';
import type { StreamInfo } from '../contract';
import { validateAgainstSpec } from '../config-validation';
import { cursorCandidates } from '../postgres/discover';
import { classifyMysqlError, connect } from './client';
import { mysqlSpec, type MysqlConfig } from './spec';

export interface MysqlColumn {
  table: string;
  name: string;
  type: string;
  nullable: boolean;
}

export const isMysqlTemporal = (type: string) => /^(datetime|timestamp|date)$/.test(type);
const INTEGER = /^(tinyint|smallint|mediumint|int|integer|bigint)$/;

export async function listColumns(conn: mysql.Connection, database: string, table?: string): Promise<MysqlColumn[]> {
  const [rows] = await conn.query(
    `SELECT TABLE_NAME AS t, COLUMN_NAME AS c, DATA_TYPE AS dt, IS_NULLABLE AS n
       FROM information_schema.COLUMNS
      WHERE TABLE_SCHEMA = ? AND (? IS NULL OR TABLE_NAME = ?)
      ORDER BY TABLE_NAME, ORDINAL_POSITION`, [database, table ?? null, table ?? null]);
  return (rows as Array<{ t: string; c: string; dt: string; n: string }>).map((r) => ({
    table: r.t, name: r.c, type: String(r.dt).toLowerCase(), nullable: r.n === 'YES',
  }));
}

export async function listPrimaryKeys(conn: mysql.Connection, database: string): Promise<Map<string, string[]>> {
  const [rows] = await conn.query(
    `SELECT TABLE_NAME AS t, COLUMN_NAME AS c FROM information_schema.KEY_COLUMN_USAGE
      WHERE TABLE_SCHEMA = ? AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY TABLE_NAME, ORDINAL_POSITION`, [database]);
  const keys = new Map<string, string[]>();
  for (const r of rows as Array<{ t: string; c: string }>) keys.set(r.t, [...(keys.get(r.t) ?? []), r.c]);
  return keys;
}

export async function discoverMysql(raw: Record<string, unknown>): Promise<StreamInfo[]> {
  const config = validateAgainstSpec<MysqlConfig>(mysqlSpec, raw);
  const conn = await connect(config);
  try {
    const [columns, keys] = await Promise.all([listColumns(conn, config.database), listPrimaryKeys(conn, config.database)]);
    const byTable = new Map<string, MysqlColumn[]>();
    for (const c of columns) byTable.set(c.table, [...(byTable.get(c.table) ?? []), c]);
    return [...byTable].map(([table, cols]) => {
      const primaryKey = keys.get(table) ?? [];
      const typed = cols.map((c) => ({ name: c.name, type: c.type, nullable: c.nullable }));
      return { name: table, columns: typed, primaryKey, cursorCandidates: cursorCandidates(typed, primaryKey, isMysqlTemporal, (t) => INTEGER.test(t)) };
    });
  } catch (err) {
    throw classifyMysqlError(err, config);
  } finally {
    await conn.end().catch(() => undefined);
  }
}
