import { randomBytes } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import { dropDatabase, ensureDatabase, withDatabase, type Pool } from '../../platform/db';
import { idCheckDigit } from '../../domain/id-number';
import { TEST_PG_URL, TEST_REDIS_URL } from '../../test/support/services';
import { getRun, type SyncRunRow } from '../runs';
import type { ConnectorInput } from '../connector-store';

/**
 * A police source system for the sync tests: a PostgreSQL database with a 警情 table written the way such
 * systems write it (pinyin-abbreviated column names, YYYYMMDDHHmmss times, department status codes, parties
 * as JSON), read through the real `postgres` connector kind.
 */
export interface SourceDb {
  url: string;
  name: string;
  client: pg.Client;
  drop(): Promise<void>;
}

export async function createSourceDb(label: string): Promise<SourceDb> {
  const name = `tl_src_${label}_${randomBytes(4).toString('hex')}`;
  const url = withDatabase(TEST_PG_URL, name);
  await ensureDatabase(url);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`CREATE TABLE jq (
    jjdbh text PRIMARY KEY, bjsj text, ajlb text, jyaq text, fadz text, zt text, dsr jsonb, gxsj timestamptz NOT NULL DEFAULT now())`);
  await client.query('CREATE INDEX ON jq (gxsj, jjdbh)');
  return {
    url, name, client,
    async drop() {
      await client.end().catch(() => undefined);
      await dropDatabase(url);
    },
  };
}

export function idNumber(i: number): string {
  const first17 = `510104${1960 + (i % 40)}0${1 + (i % 9)}1${i % 10}${String(i % 1000).padStart(3, '0')}`;
  return first17 + idCheckDigit(first17);
}

export interface JqRow { jjdbh: string; bjsj: string; ajlb: string; jyaq: string; fadz: string; zt: string; dsr: unknown[] }

export function jqRow(i: number, overrides: Partial<JqRow> = {}): JqRow {
  return {
    jjdbh: `JJ${String(i).padStart(6, '0')}`,
    bjsj: `202401${String(1 + (i % 28)).padStart(2, '0')}0830${String(i % 60).padStart(2, '0')}`,
    ajlb: ['盗窃', '诈骗', '纠纷'][i % 3]!,
    jyaq: `第${i}号警情：居民报称财物被盗`,
    fadz: `四川省成都市武侯区浆洗街街道洗面桥街${i % 50}号`,
    zt: ['10', '20', '30'][i % 3]!,
    dsr: [{ xm: `张${'伟芳娜敏静'[i % 5]}${i}`, sfzh: idNumber(i), js: '1' }],
    ...overrides,
  };
}

export async function insertJq(client: pg.Client, rows: JqRow[]): Promise<void> {
  if (!rows.length) return;
  await client.query(
    `INSERT INTO jq (jjdbh, bjsj, ajlb, jyaq, fadz, zt, dsr)
     SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(jjdbh text, bjsj text, ajlb text, jyaq text, fadz text, zt text, dsr jsonb)
     ON CONFLICT (jjdbh) DO UPDATE SET bjsj = excluded.bjsj, ajlb = excluded.ajlb, jyaq = excluded.jyaq, fadz = excluded.fadz,
       zt = excluded.zt, dsr = excluded.dsr, gxsj = clock_timestamp()`, [JSON.stringify(rows)]);
}

/** The mapping of the 警情 stream `jq` onto police.incidents (events, parties, place), whatever kind reads it. */
export const JQ_MAPPING: ConnectorInput['mapping'] = {
  version: 1,
  codeTables: {
    jqzt: { '10': '已受理', '20': '处置中', '30': '已办结' },
    jqztLoop: { 已受理: 'accepted', 处置中: 'handling', 已办结: 'closed' },
    ajlb: { 盗窃: '020101', 诈骗: '020103', 纠纷: '0102' },
  },
  streams: {
    jq: {
      target: 'police.incidents',
      updatedAt: 'gxsj',
      fields: {
        incident_no: { from: 'jjdbh', required: true },
        source_category: 'ajlb',
        category_code: { from: 'ajlb', codes: 'ajlb', unknownCode: 'null' },
        summary: 'jyaq',
        reported_at: { from: 'bjsj', format: 'YYYYMMDDHHmmss', required: true },
        address: 'fadz',
        status: { from: 'zt', codes: 'jqzt' },
        parties: { from: 'dsr', items: { name: 'xm', idNumber: { from: 'sfzh', idNumber: true }, role: { from: 'js', codes: { '1': 'reporter', '2': 'victim', '3': 'suspect' } } } },
      },
      parties: { field: 'parties' },
      place: { address: 'address' },
      event: {
        kind: 'police_incident', title: 'summary', occurredAt: 'reported_at',
        category: { field: 'category_code' }, status: { field: 'status', codes: 'jqztLoop' }, level: { const: 'town' },
      },
    },
  },
};

export function policeConnectorInput(source: SourceDb, overrides: Partial<ConnectorInput> = {}, pageSize = 50): ConnectorInput {
  return {
    department: 'POLICE',
    name: `jq-${randomBytes(3).toString('hex')}`,
    kind: 'postgres',
    config: { host: '127.0.0.1', port: 5432, database: source.name, user: 'postgres', schema: 'public', pageSize },
    streams: [{ name: 'jq', primaryKey: ['jjdbh'], cursorField: 'gxsj', lookbackSeconds: 5 }],
    mapping: structuredClone(JQ_MAPPING), // a copy: callers may change it (an invalid mapping, say)
    schedule: null,
    ...overrides,
  };
}

/** Poll until `fn` gives a truthy value. */
export async function waitFor<T>(fn: () => Promise<T | null | undefined | false>, ms = 30_000, what = 'condition'): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The run once it has ended (succeeded, failed or cancelled). */
export function runFinished(pool: Pool, id: string, ms = 60_000): Promise<SyncRunRow> {
  return waitFor(async () => {
    const r = await getRun(pool, id);
    return r && ['succeeded', 'failed', 'cancelled'].includes(r.status) ? r : null;
  }, ms, `run ${id} to finish`);
}

/**
 * A sync worker in a process of its own (worker-child.ts, POLICE queue, batches of `batch`), to be killed with
 * SIGKILL. Resolves once it serves the queue; `stop()` ends it with SIGTERM.
 */
export async function startWorkerChild(options: { hubUrl: string; prefix: string; batch?: number }): Promise<ChildProcess & { stop(): Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'worker-child.ts')], {
    env: { ...process.env, NODE_OPTIONS: '', HUB_DATABASE_URL: options.hubUrl, REDIS_URL: TEST_REDIS_URL, SYNC_PREFIX: options.prefix, SYNC_BATCH: String(options.batch ?? 50), LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('ready')) resolve(); });
    child.on('exit', (code) => reject(new Error(`worker child exited early (${code})`)));
  });
  return Object.assign(child, {
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  });
}
