import type { ReadMessage, ReadOptions } from '../contract';
import { validateAgainstSpec } from '../config-validation';
import { configError } from '../errors';
import { keysetRead, type SqlDialect } from '../sql/keyset-reader';
import { classifyMysqlError, connect } from './client';
import { isMysqlTemporal, listColumns } from './discover';
import { mysqlSpec, type MysqlConfig } from './spec';

/** `2026-01-01 08:00:00.123456` at `+08:00` → `2026-01-01T08:00:00.123456+08:00` (`Z` at +00:00). */
export function mysqlDatetimeToIso(value: string, offset: string): string {
  const m = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d(?:\.\d+)?)$/.exec(value);
  if (!m) return value;
  return `${m[1]}T${m[2]}${offset === '+00:00' || offset === '-00:00' ? 'Z' : offset}`;
}

export async function* readMysql(raw: Record<string, unknown>, options: ReadOptions): AsyncGenerator<ReadMessage> {
  const config = validateAgainstSpec<MysqlConfig>(mysqlSpec, raw);
  const conn = await connect(config);
  try {
    const columns = await listColumns(conn, config.database, options.stream.name).catch((err) => { throw classifyMysqlError(err, config); });
    if (!columns.length) throw configError(`MySQL: no table "${options.stream.name}" in database "${config.database}"`, { field: 'stream', stream: options.stream.name });
    const dialect: SqlDialect = {
      quote: (id) => `\`${id.replace(/`/g, '``')}\``,
      param: () => '?',
      minusSeconds: (expr, s) => `(${expr} - INTERVAL ${Number(s)} SECOND)`,
      isTemporal: isMysqlTemporal,
      toRecordValue: (v, type) => (typeof v === 'string' && (type === 'datetime' || type === 'timestamp') ? mysqlDatetimeToIso(v, config.timeZone) : v),
      query: async (sql, params) => {
        try {
          const [rows] = await conn.query(sql, params);
          return rows as Record<string, unknown>[];
        } catch (err) {
          throw classifyMysqlError(err, config);
        }
      },
    };
    yield* keysetRead(dialect, {
      table: `${dialect.quote(config.database)}.${dialect.quote(options.stream.name)}`,
      columnTypes: new Map(columns.map((c) => [c.name, c.type])),
      pageSize: config.pageSize,
    }, options);
  } finally {
    await conn.end().catch(() => undefined);
  }
}
