import { createReadStream } from 'node:fs';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { CIVIL_COLUMNS, CIVIL_DDL } from '../sources/civil';
import type { SeedMarker } from './police-db';

/**
 * The civil-affairs department's own MariaDB database: schema, bulk load with LOAD DATA LOCAL INFILE from the
 * generator's tab-separated files (streamed by the client; no file access on the server needed), seed marker.
 */
export function civilDatabaseName(url: string): string {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  if (!/^[A-Za-z0-9_]+$/.test(name)) throw new Error(`DEMO_MYSQL_URL must name a database of letters, digits and _ (got "${name}")`);
  return name;
}

export async function connectCivil(url: string): Promise<mysql.Connection> {
  const database = civilDatabaseName(url);
  const u = new URL(url);
  const server = `${u.protocol}//${u.username ? `${u.username}${u.password ? `:${u.password}` : ''}@` : ''}${u.host}/`;
  const admin = await mysql.createConnection({ uri: server });
  try {
    await admin.query(`CREATE DATABASE IF NOT EXISTS \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci`);
  } finally {
    await admin.end();
  }
  const conn = await mysql.createConnection({
    uri: url,
    charset: 'utf8mb4',
    dateStrings: true,
    multipleStatements: false,
    infileStreamFactory: (file: string) => createReadStream(file),
  });
  for (const ddl of CIVIL_DDL) await conn.query(ddl);
  await conn.query(`CREATE TABLE IF NOT EXISTS demo_meta (meta_key VARCHAR(40) PRIMARY KEY, meta_value TEXT NOT NULL, update_time DATETIME NOT NULL) DEFAULT CHARSET=utf8mb4`);
  return conn;
}

export async function civilMarker(conn: mysql.Connection): Promise<SeedMarker | null> {
  const [rows] = await conn.query(`SELECT meta_value FROM demo_meta WHERE meta_key = 'seed'`);
  const list = rows as { meta_value: string }[];
  return list[0] ? (JSON.parse(list[0].meta_value) as SeedMarker) : null;
}

/** Replace the civil tables' contents with the generated files in `dir/civil`. */
export async function loadCivil(conn: mysql.Connection, dir: string, marker: SeedMarker): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const [table, columns] of Object.entries(CIVIL_COLUMNS)) {
    await conn.query(`TRUNCATE TABLE ${table}`);
    const file = path.join(dir, 'civil', `${table}.tsv`);
    const [result] = await conn.query({
      sql: `LOAD DATA LOCAL INFILE ? INTO TABLE ${table} CHARACTER SET utf8mb4
              FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' (${columns.join(', ')})`,
      values: [file],
      infileStreamFactory: () => createReadStream(file),
    });
    counts[table] = (result as mysql.ResultSetHeader).affectedRows;
  }
  await conn.query(
    `INSERT INTO demo_meta (meta_key, meta_value, update_time) VALUES ('seed', ?, NOW())
       ON DUPLICATE KEY UPDATE meta_value = VALUES(meta_value), update_time = NOW()`,
    [JSON.stringify(marker)],
  );
  return counts;
}
