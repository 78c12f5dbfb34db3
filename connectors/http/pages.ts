import type { ReadOptions } from '../contract';
import { configError, systemError } from '../errors';
import { getJson, type RequestStats } from './request';
import type { HttpConfig, HttpStreamConfig } from './spec';

/** A value at a dotted path (`data.items`); the empty path is the value itself. */
export function atPath(value: unknown, path: string): unknown {
  if (!path) return value;
  return path.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), value);
}

export function streamOf(config: HttpConfig, name: string): HttpStreamConfig {
  const s = config.streams.find((x) => x.name === name);
  if (!s) throw configError(`http connector has no stream "${name}" (configured: ${config.streams.map((x) => x.name).join(', ')})`, { field: 'streams', stream: name });
  return s;
}

interface Page {
  records: unknown[];
  body: unknown;
}

/** Walk the pages of a stream (page / offset / cursor-token pagination), stopping at a short or empty page. */
export async function* pages(config: HttpConfig, stream: HttpStreamConfig, since: string | null, options: Pick<ReadOptions, 'signal' | 'log'>, stats: RequestStats, maxPages = Infinity): AsyncGenerator<Page> {
  const p = config.pagination;
  let page = p.startPage;
  let offset = 0;
  let token: string | null = p.initialCursor ?? null;
  for (let n = 0; n < maxPages; n++) {
    const url = new URL(stream.path.replace(/^\//, ''), config.baseUrl.endsWith('/') ? config.baseUrl : `${config.baseUrl}/`);
    for (const [k, v] of Object.entries(stream.params)) url.searchParams.set(k, v);
    if (since !== null) url.searchParams.set(config.incremental.sinceParam, since);
    if (p.type === 'page') {
      url.searchParams.set(p.pageParam, String(page));
      url.searchParams.set(p.sizeParam, String(p.pageSize));
    } else if (p.type === 'offset') {
      url.searchParams.set(p.offsetParam, String(offset));
      url.searchParams.set(p.limitParam, String(p.pageSize));
    } else if (p.type === 'cursor') {
      url.searchParams.set(p.sizeParam, String(p.pageSize));
      if (token !== null) url.searchParams.set(p.cursorParam, token);
    }
    const body = await getJson(config, url, { ...options, stats });
    const records = atPath(body, stream.recordsPath);
    if (!Array.isArray(records)) {
      throw systemError(`GET ${url.pathname}: no records array at "${stream.recordsPath || '(body)'}" in the response`, { field: `streams.${stream.name}.recordsPath` });
    }
    yield { records, body };
    if (p.type === 'none' || records.length === 0) return;
    if (p.hasMorePath && atPath(body, p.hasMorePath) === false) return;
    if (p.type === 'cursor') {
      const next = atPath(body, p.nextCursorPath);
      if (next === undefined || next === null || next === '') return;
      token = String(next);
    } else {
      if (records.length < p.pageSize) return;
      page++;
      offset += records.length;
    }
  }
}

