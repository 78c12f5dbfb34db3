import type { CheckResult } from '../contract';
import { validateAgainstSpec } from '../config-validation';
import { checkFailure } from '../errors';
import { classifyMysqlError, connect } from './client';
import { mysqlSpec, type MysqlConfig } from './spec';

/** Connect and count the readable tables of the database. Never throws. */
export async function checkMysql(raw: Record<string, unknown>): Promise<CheckResult> {
  try {
    const config = validateAgainstSpec<MysqlConfig>(mysqlSpec, raw);
    const conn = await connect(config);
    try {
      const [rows] = await conn.query('SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?', [config.database]);
      const n = Number((rows as Array<{ n: number }>)[0]?.n ?? 0);
      const [version] = await conn.query('SELECT VERSION() AS v');
      const v = (version as Array<{ v: string }>)[0]?.v ?? '?';
      if (n === 0) return { ok: false, code: 'TL_ERR_CONNECTOR_CONFIG', message: `MySQL ${config.host}:${config.port}/${config.database}: no table this user can read` };
      return { ok: true, message: `connected to ${v} at ${config.host}:${config.port}/${config.database}; ${n} tables` };
    } catch (err) {
      throw classifyMysqlError(err, config);
    } finally {
      await conn.end().catch(() => undefined);
    }
  } catch (err) {
    return checkFailure(err);
  }
}
