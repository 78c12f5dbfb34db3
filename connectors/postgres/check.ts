import type { CheckResult } from '../contract';
import { validateAgainstSpec } from '../config-validation';
import { checkFailure } from '../errors';
import { connect, classifyPostgresError } from './client';
import { postgresSpec, type PostgresConfig } from './spec';

/** Connect, and confirm the schema exists and is readable. Never throws. */
export async function checkPostgres(raw: Record<string, unknown>): Promise<CheckResult> {
  try {
    const config = validateAgainstSpec<PostgresConfig>(postgresSpec, raw);
    const client = await connect(config);
    try {
      const { rows } = await client.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = $1`, [config.schema]);
      const n = rows[0]?.n ?? 0;
      if (n === 0) {
        return { ok: false, code: 'TL_ERR_CONNECTOR_CONFIG', message: `PostgreSQL ${config.host}:${config.port}/${config.database}: schema "${config.schema}" has no table this user can read` };
      }
      return { ok: true, message: `connected to ${config.host}:${config.port}/${config.database}; ${n} tables in schema "${config.schema}"` };
    } catch (err) {
      throw classifyPostgresError(err, config);
    } finally {
      await client.end().catch(() => undefined);
    }
  } catch (err) {
    return checkFailure(err);
  }
}
