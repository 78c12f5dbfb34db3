import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A real HTTP server on an ephemeral port shaped like a petitions system's API: bearer auth, `updated_since`
 * (inclusive), records sorted by (updated_at, id), page / offset / cursor-token pagination, and fault
 * injection (429 with Retry-After, 500) to exercise retries.
 */
export interface Petition {
  id: string;
  petitioner: string;
  address: string;
  title: string;
  updated_at: string;
}

export interface PetitionApi {
  url: string;
  token: string;
  rows: Petition[];
  requests: Array<{ path: string; at: number; status: number }>;
  /** Statuses answered, in order, before normal service resumes. */
  inject(faults: Array<{ status: number; retryAfter?: string }>): void;
  /** Every n-th request fails with 429 (Retry-After 0) and every m-th with 500. */
  chaos(every429: number, every500: number): void;
  close(): Promise<void>;
}

export async function startPetitionApi(rows: Petition[], token = 'tok-petition-secret-123'): Promise<PetitionApi> {
  const faults: Array<{ status: number; retryAfter?: string }> = [];
  const requests: PetitionApi['requests'] = [];
  let chaos = { a: 0, b: 0 };
  let count = 0;
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      requests.push({ path: url.pathname + url.search, at: Date.now(), status });
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
      res.end(JSON.stringify(body));
    };
    count++;
    const fault = faults.shift();
    if (fault) return send(fault.status, { error: 'injected' }, fault.retryAfter !== undefined ? { 'retry-after': fault.retryAfter } : {});
    if (chaos.a && count % chaos.a === 0) return send(429, { error: 'slow down' }, { 'retry-after': '0' });
    if (chaos.b && count % chaos.b === 0) return send(500, { error: 'boom' });
    if (req.headers.authorization !== `Bearer ${token}`) return send(401, { error: 'bad token' });
    if (url.pathname === '/api/broken') return send(400, { error: 'unknown parameter pageSize' });
    if (url.pathname !== '/api/petitions') return send(404, { error: 'no such endpoint' });
    const since = url.searchParams.get('updated_since');
    const sorted = rows
      .filter((r) => !since || Date.parse(r.updated_at) >= Date.parse(since))
      .sort((x, y) => Date.parse(x.updated_at) - Date.parse(y.updated_at) || (x.id < y.id ? -1 : 1));
    let start = 0;
    let size = Number(url.searchParams.get('pageSize') ?? url.searchParams.get('limit') ?? 20);
    if (url.searchParams.has('page')) start = (Number(url.searchParams.get('page')) - 1) * size;
    if (url.searchParams.has('offset')) start = Number(url.searchParams.get('offset'));
    if (url.searchParams.has('cursor')) start = Number(Buffer.from(url.searchParams.get('cursor')!, 'base64url').toString());
    size = Math.min(size, 50);
    const items = sorted.slice(start, start + size);
    const end = start + items.length;
    send(200, { data: { items, total: sorted.length }, next_cursor: end < sorted.length ? Buffer.from(String(end)).toString('base64url') : 'end', has_more: end < sorted.length });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    rows,
    requests,
    inject: (f) => faults.push(...f),
    chaos: (a, b) => { chaos = { a, b }; },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export function petitionRows(n: number): Petition[] {
  const names = ['张伟', '王芳', '李娜', '刘洋', '陈静', '欧阳修', '上官婉儿'];
  return Array.from({ length: n }, (_, i) => ({
    id: `XF2026${String(i).padStart(5, '0')}`,
    petitioner: names[i % names.length]!,
    address: `成都市金牛区荷花池街道${i + 1}号院`,
    title: i % 2 ? '物业纠纷投诉' : '拖欠工资求助',
    updated_at: new Date(Date.UTC(2026, 0, 1, 0, Math.floor(i / 2))).toISOString(),
  }));
}
