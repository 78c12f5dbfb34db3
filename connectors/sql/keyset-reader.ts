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
  // Per column, resolved once: the column's type (the dialect's conversion of a value depends on it).
  const types = columns.map(typeOf);
  const toRecord = (row: Record<string, unknown>): Record<string, unknown> => {
    const data: Record<string, unknown> = {};
    for (let i = 0; i < columns.length; i++) data[columns[i]!] = dialect.toRecordValue(row[columns[i]!], types[i]!);
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
    const page = (last: unknown[] | null) => {
      const params: unknown[] = [];
      const where = last ? ` WHERE ${after(pk, last, params)}` : '';
      return dialect.query(`${select}${where} ORDER BY ${pk.map(q).join(', ')} LIMIT ${source.pageSize}`, params);
    };
    options.signal?.throwIfAborted();
    let pending: Promise<Record<string, unknown>[]> | null = page(null);
    while (pending) {
      const rows: Record<string, unknown>[] = await pending;
      pending = null;
      // The next page is asked for before this one is handed out: the source reads it while the consumer
      // maps these rows (keyset: its start is this page's last key, known now).
      if (rows.length >= source.pageSize) {
        options.signal?.throwIfAborted();
        const lastRow = rows[rows.length - 1]!;
        pending = prefetched(page(pk.map((c) => lastRow[c])));
      }
      for (const row of rows) yield record(row);
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
  const page = (position: unknown[] | null, first: boolean) => {
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
    return dialect.query(`${select} WHERE ${where} ORDER BY ${order.map(q).join(', ')} LIMIT ${source.pageSize}`, params);
  };
  options.signal?.throwIfAborted();
  let pending: Promise<Record<string, unknown>[]> | null = page(null, true);
  while (pending) {
    const rows: Record<string, unknown>[] = await pending;
    pending = null;
    if (rows.length === 0) break;
    const lastRow = rows[rows.length - 1]!;
    const position = order.map((c) => lastRow[c]);
    // The next page is asked for before this one is handed out (its start, this page's last key, is known):
    // the source reads it while the consumer maps these rows. The checkpoint still follows the page's rows.
    if (rows.length >= source.pageSize) {
      options.signal?.throwIfAborted();
      pending = prefetched(page(position, false));
    }
    for (const row of rows) yield record(row);
    yield { type: 'state', stream: stream.name, state: { cursor: position[0], key: position.slice(1) } satisfies SqlCursorState };
  }
}

/** A page asked for ahead: marked handled now, so a consumer that stops early leaves no unhandled rejection (awaiting it still throws). */
function prefetched<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}
