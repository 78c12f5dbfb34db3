import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import { Queue } from 'bullmq';
import Fastify from 'fastify';
import type http from 'node:http';
import type { Redis } from 'ioredis';
import { isHubError } from '../platform/errors';
import type { Logger } from '../platform/logger';
import type { Authenticator } from '../security/authenticate';
import { hubQueues } from './hub-state-metrics';

/**
 * The BullMQ dashboard (bull-board) of the hub's queues — the sync queue of each department and the webhook
 * deliveries — mounted on the gateway at `/admin/queues`, for city administrators only.
 *
 * Authentication is the gateway's own (JWT or API key). A browser cannot send an Authorization header when
 * it follows a link, so `GET /admin/queues?token=<jwt>` checks the token once and keeps it in an HttpOnly,
 * SameSite=Strict cookie limited to the dashboard's path; every request (page, assets, API) is checked again
 * from the header or the cookie. Anyone else: 401 without credentials, 403 with a role other than city-admin.
 *
 * bull-board ships adapters for web frameworks, not for a bare `http.Server`; the dashboard is a small
 * Fastify instance whose request handler the gateway calls for paths under the base path (`handle`).
 */
export const QUEUES_DASHBOARD_PATH = '/admin/queues';
const COOKIE = 'tl_admin_token';

export interface QueuesDashboardOptions {
  /** A Redis connection for the queue handles (shared, not closed here). */
  redis: Redis;
  /** The hub's Redis prefix (REDIS_PREFIX). */
  prefix: string;
  authenticate: Authenticator;
  log: Logger;
  basePath?: string;
}

export interface QueuesDashboard {
  basePath: string;
  /** True when the URL path belongs to the dashboard. */
  handles(pathname: string): boolean;
  handle(req: http.IncomingMessage, res: http.ServerResponse): void;
  close(): Promise<void>;
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

export async function createQueuesDashboard(options: QueuesDashboardOptions): Promise<QueuesDashboard> {
  const basePath = options.basePath ?? QUEUES_DASHBOARD_PATH;
  const queues = hubQueues(options.prefix).map((q) => new Queue(q.name, { connection: options.redis, prefix: q.prefix }));

  let handler: ((req: http.IncomingMessage, res: http.ServerResponse) => void) | undefined;
  const app = Fastify({
    logger: false,
    serverFactory: (h) => {
      handler = h;
      // Never listened on: the gateway's server hands requests over through `handle`.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      return (require('node:http') as typeof http).createServer();
    },
  });

  app.addHook('onRequest', async (request, reply) => {
    const url = new URL(request.url, 'http://gateway');
    const fromQuery = url.searchParams.get('token');
    const header = request.headers.authorization;
    const credential = fromQuery ? `Bearer ${fromQuery}` : header ?? (cookieValue(request.headers.cookie, COOKIE) ? `Bearer ${cookieValue(request.headers.cookie, COOKIE)}` : undefined);
    if (!credential) {
      return reply.code(401).header('www-authenticate', 'Bearer').send({ errors: [{ message: 'The queues dashboard needs a city administrator\'s token (Authorization: Bearer, or ?token=)', extensions: { code: 'TL_ERR_UNAUTHENTICATED' } }] });
    }
    let role: string;
    try {
      role = (await options.authenticate(credential)).role;
    } catch (err) {
      const code = isHubError(err) ? err.code : 'TL_ERR_UNAUTHENTICATED';
      return reply.code(401).send({ errors: [{ message: isHubError(err) ? err.message : 'Invalid credentials', extensions: { code } }] });
    }
    if (role !== 'city-admin') {
      return reply.code(403).send({ errors: [{ message: `The queues dashboard is for city-admin only (caller: ${role})`, extensions: { code: 'TL_ERR_FORBIDDEN' } }] });
    }
    if (fromQuery) {
      // Keep the checked token for the page's own requests, and drop it from the address bar.
      url.searchParams.delete('token');
      return reply
        .header('set-cookie', `${COOKIE}=${encodeURIComponent(fromQuery)}; Path=${basePath}; HttpOnly; SameSite=Strict`)
        .redirect(url.pathname + url.search, 303);
    }
  });

  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(basePath);
  createBullBoard({
    queues: queues.map((q) => new BullMQAdapter(q, { readOnlyMode: false })),
    serverAdapter: serverAdapter as never, // the adapter is typed against its own copy of @bull-board/api
    options: { uiConfig: { boardTitle: 'Tonglan queues' } },
  });
  await app.register(serverAdapter.registerPlugin() as never, { prefix: basePath });
  await app.ready();

  return {
    basePath,
    handles: (pathname) => pathname === basePath || pathname.startsWith(`${basePath}/`),
    handle(req, res) {
      handler!(req, res);
    },
    async close() {
      await app.close();
      await Promise.all(queues.map((q) => q.close()));
    },
  };
}
