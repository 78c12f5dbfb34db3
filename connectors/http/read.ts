import type { ReadMessage, ReadOptions } from '../contract';
import { validateAgainstSpec } from '../config-validation';
import { configError } from '../errors';
import { pages, streamOf } from './pages';
import type { RequestStats } from './request';
import { httpSpec, type HttpConfig } from './spec';

/** Order two cursor values: both times → by instant, both numbers → numerically, else as strings. */
export function compareCursors(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const ta = typeof a === 'string' ? Date.parse(a) : NaN;
  const tb = typeof b === 'string' ? Date.parse(b) : NaN;
  if (!Number.isNaN(ta) && !Number.isNaN(tb)) return ta - tb;
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}

/** The `updated_since` value for a saved cursor, stepped back by the look-back window. */
export function sinceValue(cursor: unknown, lookbackSeconds: number, format: HttpConfig['incremental']['format']): string {
  const ms = typeof cursor === 'number' ? (format === 'epoch-seconds' ? cursor * 1000 : cursor) : Date.parse(String(cursor));
  if (Number.isNaN(ms)) {
    if (lookbackSeconds > 0) throw configError(`cursor value ${JSON.stringify(cursor)} is not a time; a look-back window needs one`, { field: 'cursorField' });
    return String(cursor);
  }
  if (lookbackSeconds <= 0 && typeof cursor === 'string' && format === 'iso') return cursor; // keep the source's own precision
  const t = ms - lookbackSeconds * 1000;
  return format === 'iso' ? new Date(t).toISOString() : format === 'epoch-seconds' ? String(Math.floor(t / 1000)) : String(t);
}

export interface HttpCursorState {
  cursor: unknown;
}

export async function* readHttp(raw: Record<string, unknown>, options: ReadOptions): AsyncGenerator<ReadMessage> {
  const config = validateAgainstSpec<HttpConfig>(httpSpec, raw);
  const stream = streamOf(config, options.stream.name);
  const cursorField = options.stream.cursorField ?? stream.cursorField;
  const incremental = options.mode === 'INCREMENTAL' && !!cursorField;
  const saved = options.state as HttpCursorState | null;
  if (saved != null && (typeof saved !== 'object' || !('cursor' in saved))) {
    throw configError(`stream "${stream.name}": saved state ${JSON.stringify(saved)} is not an HTTP cursor state`, { stream: stream.name });
  }
  const since = incremental && saved ? sinceValue(saved.cursor, options.stream.lookbackSeconds ?? 0, config.incremental.format) : null;
  const stats: RequestStats = { requests: 0, retries: 0 };
  let max: unknown = incremental && saved ? saved.cursor : undefined;
  for await (const page of pages(config, stream, since, options, stats)) {
    for (const [i, item] of page.records.entries()) {
      if (!item || typeof item !== 'object' || Array.isArray(item)) {
        yield { type: 'record', stream: stream.name, data: {}, error: { reason: `record ${i} of the page is not a JSON object`, raw: JSON.stringify(item) } };
        continue;
      }
      const data = item as Record<string, unknown>;
      const c = cursorField ? data[cursorField] : undefined;
      if (cursorField && c !== undefined && c !== null && (max === undefined || compareCursors(c, max) > 0)) max = c;
      yield { type: 'record', stream: stream.name, data };
    }
    if (incremental && config.incremental.sortedByCursor && page.records.length && max !== undefined) {
      yield { type: 'state', stream: stream.name, state: { cursor: max } satisfies HttpCursorState };
    }
  }
  // Unsorted APIs (and full refreshes) checkpoint once, at the end; the look-back window covers rows that
  // changed while the pages were walked.
  if (max !== undefined && cursorField && (!incremental || !config.incremental.sortedByCursor)) {
    yield { type: 'state', stream: stream.name, state: { cursor: max } satisfies HttpCursorState };
  }
  if (stats.retries) yield { type: 'log', level: 'warn', message: `stream "${stream.name}": ${stats.requests} requests, ${stats.retries} retried` };
}

