import type { ReadMessage, ReadOptions } from '../contract';
import { configError } from '../errors';

/**
 * Keyset pagination shared by the SQL kinds (postgres, mysql).
 *
 * Incremental reads walk the compound key `(cursorField, pk...)` in pages, each page starting strictly after
 * the last row of the one before, and emit a state checkpoint after every page:
 * `{cursor, key}` = the last row's cursor value (as the database printed it, so it round-trips exactly) and
 * primary-key values. A read that starts from a saved state first steps back `lookbackSeconds` on a temporal
 * cursor, for sources whose clocks or commits lag; rows inside that window are read again and the merge
 * absorbs them. Rows with a NULL cursor cannot be ordered and are read only by a full refresh (a warning says
 * how many there are).
 *
 * Full refresh walks the primary key alone. It remembers the cursor's high-water mark from before the scan
 * and ends with the state `{cursor: thatMark, key: null}` (meaning `cursor >= mark`), so a following
 * incremental read also picks up every row changed while the full scan ran.
 */
export interface SqlDialect {
  quote(identifier: string): string;
  /** The placeholder of the i-th parameter (1-based) for a value of the column type `type`. */
  param(index: number, type: string): string;
  /** `expr - lookback seconds` for a temporal cursor. */
  minusSeconds(expr: string, seconds: number): string;
  isTemporal(type: string): boolean;
  query(sql: string, params: unknown[]): Promise<Record<string, unknown>[]>;
  /** A source value as record data (timestamps as ISO 8601). */
  toRecordValue(value: unknown, type: string): unknown;
}

export interface SqlCursorState {
  cursor: unknown;
  /** Primary-key values of the last row read; null: read every row whose cursor is >= `cursor`. */
  key: unknown[] | null;
}

export interface KeysetSource {
  /** Qualified, quoted table name. */
  table: string;
  /** Column name → the database type used to cast parameters. */
  columnTypes: Map<string, string>;
  pageSize: number;
}

function isCursorState(v: unknown): v is SqlCursorState {
  return !!v && typeof v === 'object' && 'cursor' in v && 'key' in v;
}

export async function* keysetRead(dialect: SqlDialect, source: KeysetSource, options: ReadOptions): AsyncGenerator<ReadMessage> {
  const { stream } = options;
  const pk = stream.primaryKey;
  if (!pk.length) throw configError(`stream "${stream.name}" needs a primary key for keyset pagination`, { field: 'primaryKey', stream: stream.name });
  for (const c of [...pk, ...(stream.cursorField ? [stream.cursorField] : [])]) {
    if (!source.columnTypes.has(c)) throw configError(`stream "${stream.name}" has no column "${c}"`, { field: c, stream: stream.name });
  }
  const q = (c: string) => dialect.quote(c);
  const typeOf = (c: string) => source.columnTypes.get(c)!;
  const columns = [...source.columnTypes.keys()];
  const select = `SELECT ${columns.map(q).join(', ')} FROM ${source.table}`;
  const toRecord = (row: Record<string, unknown>): Record<string, unknown> => {
    const data: Record<string, unknown> = {};
    for (const c of columns) data[c] = dialect.toRecordValue(row[c], typeOf(c));
    return data;
  };
  const record = (row: Record<string, unknown>): ReadMessage => ({ type: 'record', stream: stream.name, data: toRecord(row) });

  // Row-value comparison `(a, b, c) > (?, ?, ?)` — PostgreSQL and MariaDB both evaluate it lexicographically.
  const after = (cols: string[], values: unknown[], params: unknown[]): string => {
    const placeholders = cols.map((c, i) => {
      params.push(values[i]);
      return dialect.param(params.length, typeOf(c));
    });
    return `(${cols.map(q).join(', ')}) > (${placeholders.join(', ')})`;
  };

  if (options.mode === 'FULL_REFRESH' || !stream.cursorField) {
    let mark: unknown = null;
    if (stream.cursorField) {
      const rows = await dialect.query(`SELECT MAX(${q(stream.cursorField)}) AS m FROM ${source.table}`, []);
      mark = rows[0]?.m ?? null;
    }
    let last: unknown[] | null = null;
    for (;;) {
      options.signal?.throwIfAborted();
      const params: unknown[] = [];
      const where = last ? ` WHERE ${after(pk, last, params)}` : '';
      const rows = await dialect.query(`${select}${where} ORDER BY ${pk.map(q).join(', ')} LIMIT ${source.pageSize}`, params);
      for (const row of rows) yield record(row);
      if (rows.length < source.pageSize) break;
      const lastRow = rows[rows.length - 1]!;
      last = pk.map((c) => lastRow[c]);
    }
    if (stream.cursorField && mark !== null) yield { type: 'state', stream: stream.name, state: { cursor: mark, key: null } satisfies SqlCursorState };
    return;
  }

  const cursor = stream.cursorField;
  const order = [cursor, ...pk];
  const state = isCursorState(options.state) ? options.state : null;
  if (options.state != null && !state) {
    throw configError(`stream "${stream.name}": saved state ${JSON.stringify(options.state)} is not a SQL cursor state`, { stream: stream.name });
  }
  if (!state) {
    const nulls = await dialect.query(`SELECT COUNT(*) AS n FROM ${source.table} WHERE ${q(cursor)} IS NULL`, []);
    const n = Number(nulls[0]?.n ?? 0);
    if (n > 0) yield { type: 'log', level: 'warn', message: `stream "${stream.name}": ${n} rows have a NULL ${cursor} and are read only by a full refresh` };
  }

  // The first page: from the saved state (stepping back the look-back window), or from the start.
  let position: unknown[] | null = null;
  let first = true;
  for (;;) {
    options.signal?.throwIfAborted();
    const params: unknown[] = [];
    let where = `${q(cursor)} IS NOT NULL`;
    if (position) {
      where += ` AND ${after(order, position, params)}`;
    } else if (first && state) {
      const lookback = stream.lookbackSeconds ?? 0;
      if (lookback > 0 && dialect.isTemporal(typeOf(cursor))) {
        params.push(state.cursor);
        where += ` AND ${q(cursor)} >= ${dialect.minusSeconds(dialect.param(1, typeOf(cursor)), lookback)}`;
      } else if (state.key) {
        where += ` AND ${after(order, [state.cursor, ...state.key], params)}`;
      } else {
        params.push(state.cursor);
        where += ` AND ${q(cursor)} >= ${dialect.param(1, typeOf(cursor))}`;
      }
    }
    first = false;
    const rows = await dialect.query(`${select} WHERE ${where} ORDER BY ${order.map(q).join(', ')} LIMIT ${source.pageSize}`, params);
    for (const row of rows) yield record(row);
    if (rows.length === 0) break;
    const lastRow = rows[rows.length - 1]!;
    position = order.map((c) => lastRow[c]);
    yield { type: 'state', stream: stream.name, state: { cursor: position[0], key: position.slice(1) } satisfies SqlCursorState };
    if (rows.length < source.pageSize) break;
  }
}
