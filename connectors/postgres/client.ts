import pg from 'pg';
import { authError, configError, systemError, transientError } from '../errors';
import type { PostgresConfig } from './spec';

// Temporal values stay the text PostgreSQL printed (session time zone UTC): microseconds survive, and the
// text casts back exactly when it is a cursor parameter. int8 becomes a number when it fits.
const RAW = (v: string) => v;
const TEXT_TYPES = new Set([1082, 1083, 1114, 1184, 1266]);
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (TEXT_TYPES.has(oid)) return RAW;
    if (oid === 20) return (v: string) => (Number.isSafeInteger(Number(v)) ? Number(v) : v);
    return pg.types.getTypeParser(oid, format);
  },
};

export async function connect(config: PostgresConfig): Promise<pg.Client> {
  const client = new pg.Client({
    host: config.host,
    port: config.port,
    database: config.database,
    user: config.user,
    password: config.password ?? '',
    ssl: config.ssl ? { rejectUnauthorized: false } : false,
    connectionTimeoutMillis: config.connectTimeoutSeconds * 1000,
    application_name: 'tonglan-connector',
    options: '-c TimeZone=UTC -c default_transaction_read_only=on',
    types,
  } as pg.ClientConfig);
  client.on('error', () => undefined); // a dropped connection surfaces on the next query
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    throw classifyPostgresError(err, config);
  }
  return client;
}

/** A pg / network error as a typed connector error (auth and config: no retry; transient: retry). */
export function classifyPostgresError(err: unknown, config: Pick<PostgresConfig, 'host' | 'port' | 'database' | 'user'>) {
  const e = err as { code?: string; message?: string };
  const where = `${config.host}:${config.port}/${config.database}`;
  const msg = e.message ?? String(err);
  switch (e.code) {
    case '28P01': case '28000':
      return authError(`PostgreSQL ${where} refused the credentials of user "${config.user}": ${msg}`, { field: 'password', sqlState: e.code }, err);
    case '3D000':
      return configError(`PostgreSQL ${where}: database "${config.database}" does not exist`, { field: 'database', sqlState: e.code }, err);
    case '42P01': case '42703': case '42501': case '3F000': case '42601':
      return configError(`PostgreSQL ${where}: ${msg}`, { sqlState: e.code }, err);
    case 'ENOTFOUND':
      return configError(`PostgreSQL host "${config.host}" not found`, { field: 'host' }, err);
    case 'ECONNREFUSED': case 'ECONNRESET': case 'ETIMEDOUT': case 'EPIPE': case 'EHOSTUNREACH':
    case '57P01': case '57P02': case '57P03': case '53300': case '53400': case '40001': case '40P01': case '57014':
      return transientError(`PostgreSQL ${where} unavailable: ${msg}`, { sqlState: e.code }, err);
    default:
      if (/timeout|terminated|Connection ended/i.test(msg)) return transientError(`PostgreSQL ${where} unavailable: ${msg}`, undefined, err);
      return systemError(`PostgreSQL ${where}: ${msg}`, e.code ? { sqlState: e.code } : undefined, err);
  }
}
