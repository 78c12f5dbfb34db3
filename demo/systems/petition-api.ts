import { timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import type { PetitionStore } from './petition-store';

/**
 * The petition system's open API, as the demo serves it: bearer token or API key, page-numbered or keyset
 * (cursor) paging, `updated_since`, a per-token rate limit and, optionally, simulated outages. Answers use
 * the envelope `{code, message, data}` that Chinese government APIs commonly use (code 0 = success).
 */
export interface PetitionApiOptions {
  store: PetitionStore;
  token: string;
  /** Requests per second per token before 429 (0 = unlimited). */
  rateLimitPerSecond?: number;
  /** Share of requests answered 503 (simulated maintenance), 0-1. */
  failureRate?: number;
  maxPageSize?: number;
}

interface ApiError { status: number; code: number; message: string }

const err = (status: number, code: number, message: string): ApiError => ({ status, code, message });

function send(reply: FastifyReply, e: ApiError, headers: Record<string, string> = {}): FastifyReply {
  for (const [k, v] of Object.entries(headers)) reply.header(k, v);
  return reply.code(e.status).send({ code: e.code, message: e.message, data: null });
}

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function encodeCursor(at: number, no: string): string {
  return Buffer.from(JSON.stringify({ t: at, n: no })).toString('base64url');
}

function decodeCursor(cursor: string): { at: number; no: string } | null {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { t?: unknown; n?: unknown };
    return typeof v.t === 'number' && typeof v.n === 'string' ? { at: v.t, no: v.n } : null;
  } catch {
    return null;
  }
}

function intParam(q: Record<string, string | undefined>, name: string, fallback: number, min: number, max: number): number | ApiError {
  const raw = q[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) return err(400, 40001, `参数错误: ${name} 必须是整数 (收到 "${raw}")`);
  const n = Number(raw);
  if (n < min || n > max) return err(400, 40001, `参数错误: ${name} 必须在 ${min} 到 ${max} 之间 (收到 ${n})`);
  return n;
}

export function createPetitionApi(options: PetitionApiOptions): FastifyInstance {
  const { store, token } = options;
  const maxPage = options.maxPageSize ?? 500;
  const rate = options.rateLimitPerSecond ?? 50;
  const buckets = new Map<string, { tokens: number; at: number }>();
  const app = Fastify({ logger: false });

  app.get('/api/v1/health', async () => ({ status: 'ok', petitions: store.size }));

  app.addHook('onRequest', async (req, reply) => {
    if (req.url.startsWith('/api/v1/health')) return;
    const auth = req.headers.authorization;
    const key = req.headers['x-api-key'];
    const given = typeof auth === 'string' && /^Bearer\s+/i.test(auth) ? auth.replace(/^Bearer\s+/i, '') : typeof key === 'string' ? key : '';
    if (!given || !sameToken(given, token)) return send(reply, err(401, 40100, '未授权: 缺少或无效的访问令牌 (Authorization: Bearer <token> 或 X-API-Key)'));
    if (rate > 0) {
      const now = Date.now();
      const b = buckets.get(given) ?? { tokens: rate, at: now };
      b.tokens = Math.min(rate, b.tokens + ((now - b.at) / 1000) * rate);
      b.at = now;
      if (b.tokens < 1) {
        buckets.set(given, b);
        return send(reply, err(429, 42900, '请求过于频繁，请稍后再试'), { 'retry-after': String(Math.max(1, Math.ceil((1 - b.tokens) / rate))) });
      }
      b.tokens -= 1;
      buckets.set(given, b);
    }
    if (options.failureRate && Math.random() < options.failureRate) {
      return send(reply, err(503, 50300, '系统维护中，请稍后重试'), { 'retry-after': '5' });
    }
    return undefined;
  });

  app.get('/api/v1/petitions', async (req, reply) => {
    const q = req.query as Record<string, string | undefined>;
    let since: number | undefined;
    if (q.updated_since !== undefined && q.updated_since !== '') {
      // ISO 8601 with an offset or Z; a bare date-time is read as China Standard Time.
      // An unencoded `+08:00` arrives as ` 08:00` (a `+` in a query string is a space): read it as meant.
      const raw = q.updated_since.replace(/([T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?) (\d{2}:?\d{2})$/, '$1+$2');
      const withZone = /[zZ]|[+-]\d{2}:?\d{2}$/.test(raw) ? raw : `${raw.replace(' ', 'T')}+08:00`;
      since = /^\d{4}-\d{2}-\d{2}/.test(raw) ? Date.parse(withZone) : NaN;
      if (Number.isNaN(since)) return send(reply, err(400, 40001, `参数错误: updated_since 不是 ISO 8601 时间 (收到 "${raw}")`));
    }
    if (q.cursor !== undefined) {
      const limit = intParam(q, 'limit', 100, 1, maxPage);
      if (typeof limit !== 'number') return send(reply, limit);
      let after: { at: number; no: string } | undefined;
      if (q.cursor !== '') {
        const c = decodeCursor(q.cursor);
        if (!c) return send(reply, err(400, 40001, '参数错误: cursor 无效'));
        after = c;
      }
      const { items, more } = store.slice({ since, after, limit });
      const last = items[items.length - 1];
      return {
        code: 0, message: 'ok',
        data: { items, has_more: more, next_cursor: last ? encodeCursor(Date.parse(last.updatedAt), last.petitionNo) : (q.cursor || null) },
      };
    }
    const page = intParam(q, 'page', 1, 1, 1_000_000);
    if (typeof page !== 'number') return send(reply, page);
    const pageSize = intParam(q, 'page_size', 20, 1, maxPage);
    if (typeof pageSize !== 'number') return send(reply, pageSize);
    const { items, total } = store.slice({ since, offset: (page - 1) * pageSize, limit: pageSize });
    return { code: 0, message: 'ok', data: { total, page, page_size: pageSize, items } };
  });

  app.get('/api/v1/petitions/:petitionNo', async (req, reply) => {
    const { petitionNo } = req.params as { petitionNo: string };
    const rec = store.get(petitionNo);
    if (!rec) return send(reply, err(404, 40400, `信访件不存在: ${petitionNo}`));
    return { code: 0, message: 'ok', data: rec };
  });

  app.setNotFoundHandler((req, reply) => send(reply, err(404, 40400, `接口不存在: ${req.method} ${req.url.split('?')[0]}`)));
  app.setErrorHandler((e, _req, reply) => send(reply, err(500, 50000, `服务器内部错误: ${(e as Error).message}`)));
  return app;
}
