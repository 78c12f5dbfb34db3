import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import mysql from 'mysql2/promise';
import type { Pool } from '../../platform/db';
import { partLogger } from '../../platform/logger';
import { TEST_MYSQL_URL } from '../../test/support/services';
import { createPushHandler } from '../../connectors/push';
import type { StreamConfig } from '../../connectors/contract';
import { connectorSettings } from '../connector-store';
import { createSourceDb, type JqRow } from './fixtures';

/**
 * The same police 警情 data (fixtures.ts `jqRow`) held by a source system of each connector kind, so one suite
 * (kind-sync-suite.ts) can sync every kind through the real worker and compare the hub's rows with the
 * source's row by row:
 *  - postgres: a PostgreSQL database (table `jq`);
 *  - mysql: a MariaDB database (table `jq`, DATETIME(6) update times in +08:00, parties as JSON text);
 *  - http: a node HTTP server serving the rows as paged JSON (bearer token, `updated_since`, page numbers);
 *  - file: a drop folder of GBK CSV files and XLSX workbooks with Chinese headers, one file per `put`;
 *  - push: batches POSTed through the real push receiver (`createPushHandler`, as the gateway mounts it) on a
 *    node HTTP server.
 * Every row carries `gxsj`, its update time (ISO 8601): the cursor of the SQL and HTTP kinds.
 */
export type SrcRow = JqRow & { gxsj: string };
export type KindName = 'postgres' | 'mysql' | 'http' | 'file' | 'push';

/** A malformed record the kind itself reports (not a mapping failure): what the quarantine must say. */
export interface ExpectedBadRecord {
  recordKey: string | null;
  field: string;
  reason: RegExp;
}

export interface KindSource {
  kind: KindName;
  /** The connector's settings and its stream, for a connector of department POLICE (mapping: fixtures.ts). */
  config(options?: { pageSize?: number }): Record<string, unknown>;
  stream: StreamConfig;
  /** Called once the connector exists (the push receiver needs its id). */
  bind(connectorId: string): void;
  /** Add rows, or new versions of rows with the same key. */
  put(rows: SrcRow[]): Promise<void>;
  /** Put records the kind itself reports as malformed (a CSV line with too few fields, a non-object JSON record). */
  putMalformed?(): Promise<ExpectedBadRecord[]>;
  /** Every row the source holds now (the latest version of each key), as the source gives it back. */
  rows(): Promise<SrcRow[]>;
  /**
   * Settings the source refuses: a wrong credential (check fails with TL_ERR_CONNECTOR_AUTH) or, for a kind
   * without credentials, a folder that is not there (TL_ERR_CONNECTOR_CONFIG). `message` is what the check
   * must say; `secret` must appear nowhere.
   */
  refusedConfig?(): { config: Record<string, unknown>; code: 'TL_ERR_CONNECTOR_AUTH' | 'TL_ERR_CONNECTOR_CONFIG'; message: RegExp; secret?: string };
  /** Inbound kinds: send a batch with a wrong credential; the answer. */
  sendWithWrongCredential?(rows: SrcRow[]): Promise<{ status: number; code?: string }>;
  /** Slow the source down per page/batch (so a worker can be killed in the middle of a run). */
  slowDown?(ms: number): void;
  close(): Promise<void>;
}

/** Update times: row i of a first load at T0 + i minutes (far from `now`, so a look-back window re-reads little). */
export const T0 = Date.UTC(2025, 0, 1, 0, 0, 0);
export function at(i: number): string {
  return new Date(T0 + i * 60_000).toISOString();
}

function byKeyLatest(rows: SrcRow[]): SrcRow[] {
  const m = new Map<string, SrcRow>();
  for (const r of rows) m.set(r.jjdbh, r);
  return [...m.values()].sort((a, b) => (a.jjdbh < b.jjdbh ? -1 : 1));
}

const STREAM: StreamConfig = { name: 'jq', primaryKey: ['jjdbh'], cursorField: 'gxsj', lookbackSeconds: 5 };

// ─── postgres ────────────────────────────────────────────────────────────────────────────────────────────
async function postgresSource(): Promise<KindSource> {
  const db = await createSourceDb('kind');
  return {
    kind: 'postgres',
    stream: STREAM,
    config: ({ pageSize = 50 } = {}) => ({ host: '127.0.0.1', port: 5432, database: db.name, user: 'postgres', schema: 'public', pageSize }),
    bind: () => undefined,
    async put(rows) {
      await db.client.query(
        `INSERT INTO jq (jjdbh, bjsj, ajlb, jyaq, fadz, zt, dsr, gxsj)
         SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(jjdbh text, bjsj text, ajlb text, jyaq text, fadz text, zt text, dsr jsonb, gxsj timestamptz)
         ON CONFLICT (jjdbh) DO UPDATE SET bjsj = excluded.bjsj, ajlb = excluded.ajlb, jyaq = excluded.jyaq, fadz = excluded.fadz,
           zt = excluded.zt, dsr = excluded.dsr, gxsj = excluded.gxsj`, [JSON.stringify(rows)]);
    },
    async rows() {
      const { rows } = await db.client.query(`SELECT jjdbh, bjsj, ajlb, jyaq, fadz, zt, dsr, gxsj FROM jq ORDER BY jjdbh`);
      return rows.map((r) => ({ ...r, gxsj: (r.gxsj as Date).toISOString() }));
    },
    // The test server trusts local connections, so a wrong password alone is accepted: a role that does not
    // exist is refused with SQLSTATE 28000, the same AUTH path as a wrong password (28P01).
    refusedConfig: () => ({
      config: { host: '127.0.0.1', port: 5432, database: db.name, user: 'tl_no_such_role', password: 'wrong-password-pg', schema: 'public' },
      code: 'TL_ERR_CONNECTOR_AUTH', message: /tl_no_such_role/, secret: 'wrong-password-pg',
    }),
    close: () => db.drop(),
  };
}

// ─── mysql (MariaDB) ────────────────────────────────────────────────────────────────────────────────────
/** An instant as a +08:00 wall-clock DATETIME(6) literal. */
function beijing(iso: string): string {
  return new Date(Date.parse(iso) + 8 * 3600_000).toISOString().replace('T', ' ').replace('Z', '000');
}

async function mysqlSource(): Promise<KindSource> {
  const database = `tl_src_kind_${randomBytes(4).toString('hex')}`;
  const admin = await mysql.createConnection({ uri: TEST_MYSQL_URL, charset: 'utf8mb4', dateStrings: true });
  await admin.query(`CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await admin.query(`USE \`${database}\``);
  await admin.query(`SET time_zone = '+08:00'`);
  await admin.query(`CREATE TABLE jq (jjdbh VARCHAR(20) PRIMARY KEY, bjsj VARCHAR(20), ajlb VARCHAR(20), jyaq TEXT, fadz TEXT, zt VARCHAR(4),
    dsr LONGTEXT, gxsj DATETIME(6) NOT NULL, KEY jq_cursor (gxsj, jjdbh))`);
  const { hostname, port } = new URL(TEST_MYSQL_URL);
  return {
    kind: 'mysql',
    stream: STREAM,
    config: ({ pageSize = 50 } = {}) => ({ host: hostname, port: Number(port || 3306), database, user: 'root', pageSize }),
    bind: () => undefined,
    async put(rows) {
      if (!rows.length) return;
      await admin.query(
        `INSERT INTO jq (jjdbh, bjsj, ajlb, jyaq, fadz, zt, dsr, gxsj) VALUES ?
         ON DUPLICATE KEY UPDATE bjsj = VALUES(bjsj), ajlb = VALUES(ajlb), jyaq = VALUES(jyaq), fadz = VALUES(fadz), zt = VALUES(zt), dsr = VALUES(dsr), gxsj = VALUES(gxsj)`,
        [rows.map((r) => [r.jjdbh, r.bjsj, r.ajlb, r.jyaq, r.fadz, r.zt, JSON.stringify(r.dsr), beijing(r.gxsj)])]);
    },
    async rows() {
      const [rows] = await admin.query(`SELECT jjdbh, bjsj, ajlb, jyaq, fadz, zt, dsr, gxsj FROM jq ORDER BY jjdbh`);
      return (rows as Array<Record<string, string>>).map((r) => ({
        ...r, dsr: JSON.parse(r.dsr!), gxsj: new Date(`${r.gxsj!.replace(' ', 'T')}+08:00`).toISOString(),
      })) as unknown as SrcRow[];
    },
    refusedConfig: () => ({
      config: { host: hostname, port: Number(port || 3306), database, user: 'root', password: 'wrong-password-my' },
      code: 'TL_ERR_CONNECTOR_AUTH', message: /root/, secret: 'wrong-password-my',
    }),
    async close() {
      await admin.query(`DROP DATABASE IF EXISTS \`${database}\``).catch(() => undefined);
      await admin.end();
    },
  };
}

// ─── http ───────────────────────────────────────────────────────────────────────────────────────────────
/** A department API: GET /api/jq?updated_since=&page=&pageSize= → {data: [...], total}, sorted by (gxsj, jjdbh). */
async function httpSource(): Promise<KindSource> {
  const token = `tok-${randomBytes(12).toString('hex')}`;
  // Entries in the API's order; `value` is what it serves (a malformed one is not an object).
  const entries: Array<{ gxsj: string; key: string; value: unknown }> = [];
  let delayMs = 0;
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://api');
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `Bearer ${token}`) return send(401, { error: '令牌无效' });
    if (url.pathname !== '/api/jq') return send(404, { error: 'no such endpoint' });
    const since = url.searchParams.get('updated_since');
    const list = entries
      .filter((e) => !since || Date.parse(e.gxsj) >= Date.parse(since))
      .sort((x, y) => Date.parse(x.gxsj) - Date.parse(y.gxsj) || (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
    const size = Number(url.searchParams.get('pageSize') ?? 20);
    const page = Number(url.searchParams.get('page') ?? 1);
    const items = list.slice((page - 1) * size, page * size).map((e) => e.value);
    setTimeout(() => send(200, { data: items, total: list.length }), delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const config = (pageSize: number, tokenValue: string) => ({
    baseUrl,
    auth: { type: 'bearer', token: tokenValue },
    pagination: { type: 'page', pageSize },
    streams: [{ name: 'jq', path: '/api/jq', recordsPath: 'data', primaryKey: ['jjdbh'], cursorField: 'gxsj' }],
    requestsPerSecond: 1000,
    retryBaseMs: 10,
    maxRetries: 2,
  });
  return {
    kind: 'http',
    stream: STREAM,
    config: ({ pageSize = 50 } = {}) => config(pageSize, token),
    bind: () => undefined,
    async put(rows) {
      for (const r of rows) {
        const i = entries.findIndex((e) => e.key === r.jjdbh);
        if (i >= 0) entries.splice(i, 1);
        entries.push({ gxsj: r.gxsj, key: r.jjdbh, value: { ...r } });
      }
    },
    async putMalformed() {
      entries.push({ gxsj: at(0), key: '', value: '不是对象的记录' });
      return [{ recordKey: null, field: '_record', reason: /record \d+ of the page is not a JSON object/ }];
    },
    async rows() {
      return byKeyLatest(entries.filter((e) => e.key).map((e) => e.value as SrcRow));
    },
    refusedConfig: () => ({ config: config(50, 'wrong-token-http-0123'), code: 'TL_ERR_CONNECTOR_AUTH', message: /401/, secret: 'wrong-token-http-0123' }),
    slowDown: (ms) => { delayMs = ms; },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

// ─── file ───────────────────────────────────────────────────────────────────────────────────────────────
const FILE_HEADER = ['接警单编号', '报警时间', '案件类别', '简要案情', '发案地址', '状态', '当事人', '更新时间'];
const FILE_COLUMNS = { 接警单编号: 'jjdbh', 报警时间: 'bjsj', 案件类别: 'ajlb', 简要案情: 'jyaq', 发案地址: 'fadz', 状态: 'zt', 当事人: 'dsr', 更新时间: 'gxsj' };
const fileCells = (r: SrcRow) => [r.jjdbh, r.bjsj, r.ajlb, r.jyaq, r.fadz, r.zt, JSON.stringify(r.dsr), r.gxsj];
const csvField = (v: string) => (/[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/** A drop folder: each `put` drops one file, alternately a GBK CSV and an XLSX workbook (the first a CSV). */
async function fileSource(): Promise<KindSource> {
  const dir = await mkdtemp(join(tmpdir(), 'tonglan-kind-file-'));
  const model: SrcRow[] = [];
  let seq = 0;
  let puts = 0;
  const gbkCsv = async (lines: string[][]) => {
    const text = [FILE_HEADER, ...lines].map((cells) => cells.map(csvField).join(',')).join('\r\n') + '\r\n';
    const bytes = iconv.encode(text, 'gbk');
    if (iconv.decode(bytes, 'gbk') !== text) throw new Error('fixture text is not representable in GBK');
    await writeFile(join(dir, `jq_${String(++seq).padStart(4, '0')}.csv`), bytes);
  };
  return {
    kind: 'file',
    stream: { name: 'jq', primaryKey: ['jjdbh'] },
    config: ({ pageSize = 50 } = {}) => ({
      path: dir, checkpointEveryRows: pageSize,
      streams: [{ name: 'jq', pattern: 'jq_*.{csv,xlsx}', columns: FILE_COLUMNS, primaryKey: ['jjdbh'] }],
    }),
    bind: () => undefined,
    async put(rows) {
      if (puts++ % 2 === 0) await gbkCsv(rows.map(fileCells));
      else {
        const book = new ExcelJS.Workbook();
        const sheet = book.addWorksheet('警情');
        sheet.addRow(FILE_HEADER);
        for (const r of rows) sheet.addRow(fileCells(r));
        await book.xlsx.writeFile(join(dir, `jq_${String(++seq).padStart(4, '0')}.xlsx`));
      }
      model.push(...rows.map((r) => ({ ...r })));
    },
    async putMalformed() {
      // A CSV line cut short (3 of 8 fields): the kind flags it with its raw text.
      await gbkCsv([['JJ900001', '20240101083000', '盗窃']]);
      return [{ recordKey: 'JJ900001', field: '_record', reason: /^expected 8 columns, found 3$/ }];
    },
    rows: async () => byKeyLatest(model),
    refusedConfig: () => ({
      config: { path: join(dir, '不存在的目录'), streams: [{ name: 'jq', pattern: 'jq_*.csv', columns: FILE_COLUMNS, primaryKey: ['jjdbh'] }] },
      code: 'TL_ERR_CONNECTOR_CONFIG', message: /不存在的目录/,
    }),
    close: () => rm(dir, { recursive: true, force: true }),
  };
}

// ─── push ───────────────────────────────────────────────────────────────────────────────────────────────
/** The push receiver on a real HTTP server, loading the connector from the hub exactly as the gateway does. */
async function pushSource(hub: Pool): Promise<KindSource> {
  const token = `push-${randomBytes(16).toString('hex')}`;
  const log = partLogger('kind-push-receiver');
  log.level = 'silent';
  const handler = createPushHandler({
    pool: hub,
    log,
    async loadConnector(id) {
      const { record, config } = await connectorSettings(hub, id);
      return { kind: record.kind, config };
    },
  });
  const server = createServer((req, res) => {
    handler(req, res).then((handled) => {
      if (!handled) { res.statusCode = 404; res.end(); }
    }, () => { res.statusCode = 500; res.end(); });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let connectorId = '';
  const model: SrcRow[] = [];
  const post = async (records: unknown[], tokenValue = token) => {
    const res = await fetch(`${url}/push/${connectorId}/jq`, {
      method: 'POST', body: JSON.stringify(records),
      headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${tokenValue}`, 'idempotency-key': randomBytes(8).toString('hex') },
    });
    const body = (await res.json()) as { batchId?: string; error?: { code: string } };
    return { status: res.status, ...(body.error ? { code: body.error.code } : {}), batchId: body.batchId };
  };
  return {
    kind: 'push',
    stream: { name: 'jq', primaryKey: ['jjdbh'] },
    config: () => ({ token, streams: [{ name: 'jq', primaryKey: ['jjdbh'], cursorCandidates: ['gxsj'] }], maxRecordsPerBatch: 1000 }),
    bind: (id) => { connectorId = id; },
    async put(rows) {
      // The department sends batches of at most 50 records.
      for (let i = 0; i < rows.length; i += 50) {
        const r = await post(rows.slice(i, i + 50));
        if (r.status !== 202) throw new Error(`push refused: ${JSON.stringify(r)}`);
      }
      model.push(...rows.map((r) => ({ ...r })));
    },
    async putMalformed() {
      const r = await post([42]);
      if (r.status !== 202) throw new Error(`push refused: ${JSON.stringify(r)}`);
      return [{ recordKey: null, field: '_record', reason: new RegExp(`^record 0 of batch ${r.batchId} is not a JSON object$`) }];
    },
    rows: async () => byKeyLatest(model),
    sendWithWrongCredential: (rows) => post(rows, 'not-the-push-token-0123456789'),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export async function createKindSource(kind: KindName, hub: Pool): Promise<KindSource> {
  switch (kind) {
    case 'postgres': return postgresSource();
    case 'mysql': return mysqlSource();
    case 'http': return httpSource();
    case 'file': return fileSource();
    case 'push': return pushSource(hub);
  }
}
