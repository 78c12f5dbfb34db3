import pg from 'pg';
import { StatementQueueClient } from './statement-queue';

/**
 * PostgreSQL access. One pool per part. A subgraph's pool runs as its own database role (`SET ROLE` on every
 * new connection, as a startup parameter), so the database itself enforces that the police subgraph can read `police` and nothing
 * else, whatever the login user is (trust auth locally, a password or an embedded cluster elsewhere).
 */
export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;
export type Queryable = Pick<pg.Pool, 'query'> | pg.PoolClient;

// int8 (bigint) as JS number when it fits: counts and positions in this hub stay far below 2^53.
pg.types.setTypeParser(20, (v: string) => {
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : (v as unknown as number);
});
// `date` stays a 'YYYY-MM-DD' string: a birth date has no time zone.
pg.types.setTypeParser(1082, (v: string) => v);

export interface PoolOptions {
  /** Database role to assume on each connection (must exist; the login user must be a member). */
  role?: string;
  applicationName?: string;
  max?: number;
  /** Extra `SET` statements run on each new connection, e.g. `search_path`. */
  searchPath?: string[];
  /** How long an idle connection is kept before it is closed; 0: kept until the pool ends. Default 30 s. */
  idleTimeoutMillis?: number;
}

export function createPool(connectionString: string, options: PoolOptions = {}): pg.Pool {
  // Role and search_path are sent as startup parameters, so they hold before the first query runs.
  const startup: string[] = [];
  if (options.role) startup.push(`-c role=${options.role}`);
  if (options.searchPath?.length) startup.push(`-c search_path=${options.searchPath.join(',')}`);
  const pool = new pg.Pool({
    connectionString,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'tonglan',
    idleTimeoutMillis: options.idleTimeoutMillis ?? 30_000,
    // Statements sent to a connection while one runs wait in the project's queue, not node-postgres's (statement-queue.ts).
    Client: StatementQueueClient,
    ...(startup.length ? { options: startup.join(' ') } : {}),
  });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', () => undefined);
  return pool;
}

/** Run `fn` in one transaction; commits on success, rolls back on any error. */
export async function withTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** Replace the database name in a PostgreSQL URL. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export function databaseName(url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, '')) || 'postgres';
}

/** Create the database named in `url` if it does not exist (safe when several processes race). */
export async function ensureDatabase(url: string): Promise<void> {
  const name = databaseName(url);
  const admin = new pg.Client({ connectionString: withDatabase(url, 'postgres') });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) {
      try {
        await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)} ENCODING 'UTF8' TEMPLATE template0`);
      } catch (err) {
        // 42P04 duplicate_database, 23505: another process created it first.
        const code = (err as { code?: string }).code;
        if (code !== '42P04' && code !== '23505') throw err;
      }
    }
  } finally {
    await admin.end();
  }
}

/** Drop a database, disconnecting its sessions first (tests). */
export async function dropDatabase(url: string): Promise<void> {
  const name = databaseName(url);
  const admin = new pg.Client({ connectionString: withDatabase(url, 'postgres') });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

export async function pingPostgres(url: string, timeoutMs = 1000): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}
