import mysql from 'mysql2/promise';
import { authError, configError, systemError, transientError } from '../errors';
import type { MysqlConfig } from './spec';

/** One connection; DATETIME/TIMESTAMP/DATE values stay the text the server printed (session zone = `timeZone`). */
export async function connect(config: MysqlConfig): Promise<mysql.Connection> {
  try {
    const conn = await mysql.createConnection({
      host: config.host,
      port: config.port,
      user: config.user,
      password: config.password ?? '',
      database: config.database,
      dateStrings: true,
      supportBigNumbers: true,
      bigNumberStrings: false,
      charset: 'utf8mb4',
      connectTimeout: config.connectTimeoutSeconds * 1000,
      ...(config.ssl ? { ssl: { rejectUnauthorized: false } } : {}),
    });
    conn.on('error', () => undefined);
    await conn.query('SET time_zone = ?', [config.timeZone]);
    return conn;
  } catch (err) {
    throw classifyMysqlError(err, config);
  }
}

export function classifyMysqlError(err: unknown, config: Pick<MysqlConfig, 'host' | 'port' | 'database' | 'user'>) {
  const e = err as { code?: string; message?: string; errno?: number };
  const where = `${config.host}:${config.port}/${config.database}`;
  const msg = e.message ?? String(err);
  switch (e.code) {
    case 'ER_ACCESS_DENIED_ERROR': case 'ER_DBACCESS_DENIED_ERROR': case 'ER_NOT_SUPPORTED_AUTH_MODE':
      return authError(`MySQL ${where} refused the credentials of user "${config.user}": ${msg}`, { field: 'password', sqlCode: e.code }, err);
    case 'ER_BAD_DB_ERROR':
      return configError(`MySQL ${where}: database "${config.database}" does not exist`, { field: 'database', sqlCode: e.code }, err);
    case 'ER_NO_SUCH_TABLE': case 'ER_BAD_FIELD_ERROR': case 'ER_TABLEACCESS_DENIED_ERROR': case 'ER_COLUMNACCESS_DENIED_ERROR': case 'ER_PARSE_ERROR':
      return configError(`MySQL ${where}: ${msg}`, { sqlCode: e.code }, err);
    case 'ENOTFOUND':
      return configError(`MySQL host "${config.host}" not found`, { field: 'host' }, err);
    case 'ECONNREFUSED': case 'ECONNRESET': case 'ETIMEDOUT': case 'EPIPE': case 'EHOSTUNREACH': case 'PROTOCOL_CONNECTION_LOST':
    case 'ER_CON_COUNT_ERROR': case 'ER_LOCK_DEADLOCK': case 'ER_LOCK_WAIT_TIMEOUT': case 'ER_SERVER_SHUTDOWN': case 'ER_QUERY_INTERRUPTED':
      return transientError(`MySQL ${where} unavailable: ${msg}`, { sqlCode: e.code }, err);
    default:
      if (/timeout|closed state/i.test(msg)) return transientError(`MySQL ${where} unavailable: ${msg}`, undefined, err);
      return systemError(`MySQL ${where}: ${msg}`, e.code ? { sqlCode: e.code } : undefined, err);
  }
}
