import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { HubError } from './errors';
import type { Logger } from './logger';

/**
 * Plain SQL migrations, `migrations/NNNN_name.sql`, applied in order, each in its own transaction, each once
 * (recorded in `hub.schema_migrations` with a checksum). A session advisory lock makes concurrent start-ups
 * safe: the second process waits, then finds nothing left to do. An applied file that was edited afterwards
 * is an error, not a silent skip.
 */
export const MIGRATIONS_DIR = join(__dirname, '..', 'migrations');
const LOCK_KEY = 7_401_126; // arbitrary, fixed: "tonglan migrations"

export interface Migration {
  version: string;
  name: string;
  sql: string;
  checksum: string;
}

export function listMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((file) => {
      const sql = readFileSync(join(dir, file), 'utf8');
      return {
        version: file.slice(0, 4),
        name: file.replace(/\.sql$/, ''),
        sql,
        checksum: createHash('sha256').update(sql).digest('hex'),
      };
    });
}

export async function migrate(databaseUrl: string, options: { dir?: string; log?: Logger } = {}): Promise<string[]> {
  const migrations = listMigrations(options.dir);
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'tonglan-migrate' });
  await client.connect();
  const applied: string[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
    await client.query('CREATE SCHEMA IF NOT EXISTS hub');
    await client.query(`CREATE TABLE IF NOT EXISTS hub.schema_migrations (
      version text PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await client.query<{ version: string; name: string; checksum: string }>(
      'SELECT version, name, checksum FROM hub.schema_migrations');
    const done = new Map(rows.map((r) => [r.version, r]));
    for (const m of migrations) {
      const prior = done.get(m.version);
      if (prior) {
        if (prior.checksum !== m.checksum) {
          throw new HubError('TL_ERR_MIGRATION', `Migration ${m.name} was changed after it was applied (checksum differs); add a new migration instead`, { migration: m.name });
        }
        continue;
      }
      try {
        await client.query('BEGIN');
        await client.query(m.sql);
        await client.query('INSERT INTO hub.schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [m.version, m.name, m.checksum]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw new HubError('TL_ERR_MIGRATION', `Migration ${m.name} failed: ${(err as Error).message}`, { migration: m.name }, { cause: err });
      }
      applied.push(m.name);
      options.log?.info({ migration: m.name }, 'migration applied');
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]).catch(() => undefined);
    await client.end();
  }
  return applied;
}
