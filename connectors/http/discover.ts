import type { StreamInfo } from '../contract';
import { validateAgainstSpec } from '../config-validation';
import { pages } from './pages';
import { httpSpec, type HttpConfig } from './spec';

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'string' && /^\d{4}-\d\d-\d\d([T ]\d\d:\d\d)/.test(v)) return 'string:date-time';
  return typeof v;
}

/** Columns inferred from the first page of each stream; cursor candidates are the time-valued fields. */
export async function discoverHttp(raw: Record<string, unknown>): Promise<StreamInfo[]> {
  const config = validateAgainstSpec<HttpConfig>(httpSpec, raw);
  const out: StreamInfo[] = [];
  for (const stream of config.streams) {
    const types = new Map<string, Set<string>>();
    for await (const page of pages(config, stream, null, {}, { requests: 0, retries: 0 }, 1)) {
      for (const r of page.records) {
        if (!r || typeof r !== 'object') continue;
        for (const [k, v] of Object.entries(r)) {
          const t = types.get(k) ?? new Set<string>();
          t.add(jsonType(v));
          types.set(k, t);
        }
      }
    }
    const columns = [...types].map(([name, t]) => ({ name, type: [...t].filter((x) => x !== 'null').join('|') || 'null', nullable: t.has('null') }));
    const times = columns.filter((c) => c.type === 'string:date-time').map((c) => c.name);
    times.sort((a, b) => Number(/updat|modif|chang/i.test(b)) - Number(/updat|modif|chang/i.test(a)));
    const candidates = [...new Set([...(stream.cursorField ? [stream.cursorField] : []), ...times])];
    out.push({ name: stream.name, columns, primaryKey: stream.primaryKey, cursorCandidates: candidates });
  }
  return out;
}
