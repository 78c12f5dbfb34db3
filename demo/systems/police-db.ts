import { createReadStream } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { ensureDatabase } from '../../platform/db';
import { POLICE_COLUMNS, POLICE_DDL } from '../sources/police';

/**
 * The police department's own PostgreSQL database (not the hub's): its schema, bulk load with COPY from
 * the generator's CSV files, and a marker saying which seed and size it holds.
 */
export interface SeedMarker {
  seed: number;
  persons: number;
  asOf: string;
}

const META_DDL = `CREATE TABLE IF NOT EXISTS demo_meta (key text PRIMARY KEY, value jsonb NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`;

export async function connectPolice(url: string): Promise<pg.Client> {
  await ensureDatabase(url);
  const client = new pg.Client({ connectionString: url, application_name: 'tonglan-demo-police' });
  client.on('error', () => undefined);
  await client.connect();
  await client.query(POLICE_DDL);
  await client.query(META_DDL);
  return client;
}

export async function policeMarker(client: pg.Client): Promise<SeedMarker | null> {
  const { rows } = await client.query(`SELECT value FROM demo_meta WHERE key = 'seed'`);
  return rows[0] ? (rows[0].value as SeedMarker) : null;
}

/** Replace the police tables' contents with the generated files in `dir/police`, in one transaction. */
export async function loadPolice(client: pg.Client, dir: string, marker: SeedMarker): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  await client.query('BEGIN');
  try {
    await client.query('TRUNCATE t_jq_ry, t_jqxx, t_hjxx, t_ldrk');
    for (const table of ['t_hjxx', 't_ldrk', 't_jqxx', 't_jq_ry'] as const) {
      const columns = POLICE_COLUMNS[table].join(', ');
      const copy = client.query(copyFrom(`COPY ${table} (${columns}) FROM STDIN WITH (FORMAT csv, HEADER true)`));
      await pipeline(createReadStream(path.join(dir, 'police', `${table}.csv`)), copy);
      counts[table] = copy.rowCount ?? 0;
    }
    await client.query(
      `INSERT INTO demo_meta (key, value) VALUES ('seed', $1) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`,
      [JSON.stringify(marker)],
    );
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
  await client.query('ANALYZE t_hjxx; ANALYZE t_ldrk; ANALYZE t_jqxx; ANALYZE t_jq_ry');
  return counts;
}
