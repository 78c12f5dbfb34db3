import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Pool } from '../../platform/db';
import { HubError, isHubError, type ErrorCode } from '../../platform/errors';
import { partLogger, type Logger } from '../../platform/logger';
import { validateAgainstSpec } from '../config-validation';
import { pushSpec, type PushConfig } from './spec';
import { storeBatch } from './store';

/**
 * The push receiver: `POST <basePath>/<connectorId>/<stream>` with a JSON array of records (or
 * `{"records": [...]}`), or NDJSON (`application/x-ndjson`, one record per line). Authenticated by the
 * connector's push token (`Authorization: Bearer <token>` or `X-Push-Token`), compared in constant time.
 * The batch is stored durably in `hub.push_batches` before the answer (202); re-sending it with the same
 * `Idempotency-Key` (default: the body's sha256) answers 200 with the first batch's id and stores nothing.
 *
 * Answers: 202 stored · 200 duplicate · 400 malformed body (with the line) · 401 wrong token · 404 unknown
 * connector or stream · 405 not POST · 409 key reused for another body · 413 too large · 415 content type.
 * Errors are `{"error": {"code", "message"}}` with the hub's codes.
 */
export interface PushHandlerOptions {
  pool: Pool;
  /** The connector's kind and decrypted configuration, or null when there is no such connector. */
  loadConnector(connectorId: string): Promise<{ kind: string; config: Record<string, unknown> } | null>;
  /** Called after a new batch is committed (e.g. to queue a sync run of the connector). */
  onBatch?(batch: { connectorId: string; stream: string; batchId: number; records: number }): void | Promise<void>;
  basePath?: string;
  log?: Logger;
}

export type PushHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

class PushError extends Error {
  constructor(readonly status: number, readonly code: ErrorCode, message: string) {
    super(message);
  }
}

function sha256(data: Buffer | string): Buffer {
  return createHash('sha256').update(data).digest();
}

/** Constant-time token comparison (hashing first makes the lengths equal). */
export function tokensMatch(given: string, expected: string): boolean {
  return timingSafeEqual(sha256(given), sha256(expected)) && given.length > 0;
}

function presentedToken(req: IncomingMessage): string {
  const auth = req.headers.authorization;
  if (auth && /^Bearer\s+/i.test(auth)) return auth.replace(/^Bearer\s+/i, '').trim();
  const header = req.headers['x-push-token'];
  return (Array.isArray(header) ? header[0] : header) ?? '';
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > limit) throw new PushError(413, 'TL_ERR_BAD_USER_INPUT', `the body is ${declared} bytes; this connector accepts at most ${limit}`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new PushError(413, 'TL_ERR_BAD_USER_INPUT', `the body is larger than ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Records of a body: a JSON array, `{records: [...]}`, or NDJSON. Malformed input names the line. */
export function parseBatch(body: Buffer, contentType: string): unknown[] {
  const text = body.toString('utf8');
  if (/ndjson|jsonl|json-seq/.test(contentType)) {
    const out: unknown[] = [];
    text.split('\n').forEach((line, i) => {
      if (!line.trim()) return;
      try {
        out.push(JSON.parse(line));
      } catch (err) {
        throw new PushError(400, 'TL_ERR_BAD_USER_INPUT', `NDJSON line ${i + 1} is not valid JSON: ${(err as Error).message}`);
      }
    });
    return out;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new PushError(400, 'TL_ERR_BAD_USER_INPUT', `the body is not valid JSON: ${(err as Error).message}`);
  }
  if (Array.isArray(parsed)) return parsed;
  if (parsed && typeof parsed === 'object' && Array.isArray((parsed as { records?: unknown }).records)) return (parsed as { records: unknown[] }).records;
  throw new PushError(400, 'TL_ERR_BAD_USER_INPUT', 'the body must be a JSON array of records, {"records": [...]}, or NDJSON');
}

function send(res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  const json = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(json), 'cache-control': 'no-store', ...extra });
  res.end(json);
}

/** A node `http` request handler; resolves false when the request is not under `basePath` (not ours). */
export function createPushHandler(options: PushHandlerOptions): PushHandler {
  const base = (options.basePath ?? '/push').replace(/\/$/, '');
  const log = options.log ?? partLogger('push');
  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://hub');
    if (url.pathname !== base && !url.pathname.startsWith(`${base}/`)) return false;
    try {
      const parts = url.pathname.slice(base.length).split('/').filter(Boolean).map(decodeURIComponent);
      if (parts.length !== 2) throw new PushError(404, 'TL_ERR_NOT_FOUND', `expected ${base}/<connectorId>/<stream>`);
      if (req.method !== 'POST') throw new PushError(405, 'TL_ERR_BAD_USER_INPUT', 'only POST is accepted');
      const [connectorId, stream] = parts as [string, string];
      const connector = UUID.test(connectorId) ? await options.loadConnector(connectorId) : null;
      if (!connector || connector.kind !== 'push') throw new PushError(404, 'TL_ERR_NOT_FOUND', `no push connector ${connectorId}`);
      let config: PushConfig;
      try {
        config = validateAgainstSpec<PushConfig>(pushSpec, connector.config);
      } catch (err) {
        log.error({ connectorId, err: (err as Error).message }, 'push connector misconfigured');
        throw new PushError(500, 'TL_ERR_CONNECTOR_CONFIG', 'this push connector is misconfigured on the hub');
      }
      if (!tokensMatch(presentedToken(req), config.token)) {
        log.warn({ connectorId, stream, remote: req.socket.remoteAddress }, 'push rejected: wrong or missing token');
        throw new PushError(401, 'TL_ERR_CONNECTOR_AUTH', 'wrong or missing push token');
      }
      if (!config.streams.some((s) => s.name === stream)) throw new PushError(404, 'TL_ERR_NOT_FOUND', `stream "${stream}" is not configured on this connector`);
      const contentType = String(req.headers['content-type'] ?? '').toLowerCase();
      if (!/json|ndjson|jsonl/.test(contentType)) throw new PushError(415, 'TL_ERR_BAD_USER_INPUT', 'send application/json or application/x-ndjson');
      const body = await readBody(req, config.maxBatchBytes);
      const records = parseBatch(body, contentType);
      if (!records.length) throw new PushError(400, 'TL_ERR_BAD_USER_INPUT', 'the batch has no records');
      if (records.length > config.maxRecordsPerBatch) throw new PushError(413, 'TL_ERR_BAD_USER_INPUT', `${records.length} records; at most ${config.maxRecordsPerBatch} per batch`);
      const bodySha256 = sha256(body).toString('hex');
      const keyHeader = req.headers['idempotency-key'];
      const idempotencyKey = (Array.isArray(keyHeader) ? keyHeader[0] : keyHeader)?.trim() || `sha256:${bodySha256}`;
      if (idempotencyKey.length > 200) throw new PushError(400, 'TL_ERR_BAD_USER_INPUT', 'Idempotency-Key is longer than 200 characters');
      const stored = await storeBatch(options.pool, { connectorId, stream, idempotencyKey, bodySha256, records });
      if (stored.conflict) throw new PushError(409, 'TL_ERR_CONFLICT', `Idempotency-Key "${idempotencyKey}" was already used for a different batch (${stored.batchId})`);
      send(res, stored.duplicate ? 200 : 202, { batchId: String(stored.batchId), stream, records: stored.records, duplicate: stored.duplicate });
      if (!stored.duplicate) {
        log.info({ connectorId, stream, batchId: stored.batchId, records: stored.records }, 'push batch stored');
        await Promise.resolve(options.onBatch?.({ connectorId, stream, batchId: stored.batchId, records: stored.records })).catch((err) => log.error({ err }, 'push onBatch failed'));
      }
    } catch (err) {
      if (res.headersSent) return true;
      if (err instanceof PushError) {
        send(res, err.status, { error: { code: err.code, message: err.message } }, err.status === 413 ? { connection: 'close' } : {});
        if (err.status === 413) req.resume();
      } else {
        const e = isHubError(err) ? err : new HubError('TL_ERR_INTERNAL', 'the batch could not be stored');
        log.error({ err }, 'push batch failed');
        send(res, e.status >= 500 ? 503 : e.status, { error: { code: e.code === 'TL_ERR_INTERNAL' ? 'TL_ERR_DEPENDENCY_DOWN' : e.code, message: 'the batch could not be stored; send it again' } });
      }
    }
    return true;
  };
}
