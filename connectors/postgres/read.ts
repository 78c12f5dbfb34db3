import pg from 'pg';
import type { ReadMessage, ReadOptions } from '../contract';
import { validateAgainstSpec } from '../config-validation';
import { configError } from '../errors';
import { keysetRead, type SqlDialect } from '../sql/keyset-reader';
import { connect, classifyPostgresError } from './client';
import { isTemporalType, listColumns } from './discover';
import { postgresSpec, type PostgresConfig } from './spec';

/** `2026-01-01 08:00:00.123456+00` → `2026-01-01T08:00:00.123456Z`; a `timestamp` (no zone) gets `localOffset`. */
export function pgTimestampToIso(value: string, localOffset = ''): string {
  const m = /^(\d{4,}-\d\d-\d\d) (\d\d:\d\d:\d\d(?:\.\d+)?)([+-]\d\d(?::?\d\d)?)?$/.exec(value);
  if (!m) return value;
  const zone = m[3] === undefined ? (/^[+-]00:00$/.test(localOffset) ? 'Z' : localOffset) : /^[+-]00(:?00)?$/.test(m[3]) ? 'Z' : m[3].length === 3 ? `${m[3]}:00` : m[3];
  return `${m[1]}T${m[2]}${zone}`;
}

/** Read one table: keyset pages over `(cursorField, pk)` with state checkpoints (see sql/keyset-reader). */
export async function* readPostgres(raw: Record<string, unknown>, options: ReadOptions): AsyncGenerator<ReadMessage> {
  const config = validateAgainstSpec<PostgresConfig>(postgresSpec, raw);
  const client = await connect(config);
  try {
    const columns = await listColumns(client, config.schema, options.stream.name).catch((err) => { throw classifyPostgresError(err, config); });
    if (!columns.length) {
      throw configError(`PostgreSQL: no table "${options.stream.name}" in schema "${config.schema}"`, { field: 'stream', stream: options.stream.name });
    }
    const dialect: SqlDialect = {
      quote: (id) => pg.escapeIdentifier(id),
      param: (i, type) => `$${i}::${type}`,
      minusSeconds: (expr, s) => `(${expr} - make_interval(secs => ${Number(s)}))`,
      isTemporal: isTemporalType,
      toRecordValue: (v, type) => (typeof v === 'string' && type.startsWith('timestamp') ? pgTimestampToIso(v, type.includes('without') ? config.timeZone : '') : v),
      query: async (sql, params) => {
        try {
          return (await client.query(sql, params)).rows;
        } catch (err) {
          throw classifyPostgresError(err, config);
        }
      },
    };
    yield* keysetRead(dialect, {
      table: `${pg.escapeIdentifier(config.schema)}.${pg.escapeIdentifier(options.stream.name)}`,
      columnTypes: new Map(columns.map((c) => [c.name, c.castType])),
      pageSize: config.pageSize,
    }, options);
  } finally {
    await client.end().catch(() => undefined);
  }
}
