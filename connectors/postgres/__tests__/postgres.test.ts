import { createTestDatabase, type TestDatabase } from '../../../test/support/db';
import { describeConformance, collectRead } from '../../conformance/suite';
import { postgresKind } from '..';
import { pgTimestampToIso } from '../read';
import type { StreamConfig } from '../../contract';

const LOOKBACK = 120;
const N = 25;
const SURNAMES = ['张', '王', '李', '赵', '刘'];

function connectionOf(url: string) {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || 5432), database: u.pathname.slice(1), user: decodeURIComponent(u.username) };
}

async function createSource(): Promise<{ db: TestDatabase }> {
  const db = await createTestDatabase('pgsource', { migrated: false });
  // A police-like table with a compound key and several rows per cursor value (ties broken by the key).
  await db.pool.query(`CREATE TABLE public.incidents (
    station text NOT NULL, seq integer NOT NULL, name text NOT NULL, address text, summary text,
    updated_at timestamptz NOT NULL, PRIMARY KEY (station, seq))`);
  await db.pool.query(`CREATE TABLE public.no_key (note text)`);
  for (let i = 0; i < N; i++) {
    await db.pool.query(
      `INSERT INTO public.incidents VALUES ($1, $2, $3, $4, $5, timestamptz '2026-01-01 08:00:00.123456+08' + make_interval(mins => $6))`,
      [i % 2 ? '武侯派出所' : '锦江派出所', i, `${SURNAMES[i % 5]}小${'明红华'[i % 3]}`, `成都市武侯区玉林街道玉林北路${i + 1}号`, `纠纷 #${i}`, Math.floor(i / 3)]);
  }
  return { db };
}

describeConformance('postgres', async () => {
  const { db } = await createSource();
  const good = { ...connectionOf(db.url), pageSize: 7 };
  const stream: StreamConfig = { name: 'incidents', primaryKey: ['station', 'seq'], cursorField: 'updated_at', lookbackSeconds: LOOKBACK };
  const keyOf = (d: Record<string, unknown>) => `${d.station}|${d.seq}`;
  return {
    kind: postgresKind,
    goodConfig: { ...good, password: 'not-needed-on-trust' },
    badConfigs: [
      { config: { ...good, port: 'five' }, field: 'port' },
      { config: { host: '127.0.0.1', user: 'postgres' }, field: 'database' },
      { config: { ...good, database: 'tl_no_such_database_x' }, field: 'database' },
      { config: { ...good, schema: 'no_such_schema' }, field: 'no_such_schema' },
      { config: { ...good, colour: 'blue' }, field: 'colour' },
    ],
    wrongAuth: { config: { ...good, user: 'tl_no_such_role', password: 'wrong' } },
    secretFields: ['password'],
    stream,
    compareFields: ['station', 'seq', 'name', 'address', 'updated_at'],
    keyOf,
    async sourceRows() {
      // PostgreSQL's own text of the instant (trailing zeros of the microseconds dropped, as it prints them).
      const { rows } = await db.pool.query(`SELECT station, seq, name, address, (updated_at AT TIME ZONE 'UTC')::text AS updated_at FROM public.incidents`);
      return rows.map((r) => ({ ...r, updated_at: pgTimestampToIso(`${r.updated_at}+00`) }));
    },
    async mutate() {
      await db.pool.query(`UPDATE public.incidents SET name = name || '（更正）', updated_at = now() WHERE seq IN (1, 2, 10)`);
      await db.pool.query(`INSERT INTO public.incidents VALUES ('青羊派出所', 100, '欧阳娜娜', '成都市青羊区少城街道宽巷子8号', '新警情', now()), ('青羊派出所', 101, '司马光', NULL, NULL, now())`);
      return { changedKeys: ['武侯派出所|1', '锦江派出所|2', '锦江派出所|10', '青羊派出所|100', '青羊派出所|101'] };
    },
    duplicateAllowed(data, state) {
      const cursor = Date.parse(pgTimestampToIso(String((state as { cursor: string }).cursor)));
      return Date.parse(String(data.updated_at)) >= cursor - LOOKBACK * 1000;
    },
    cleanup: () => db.drop(),
  };
});

describe('postgres specifics', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    ({ db } = await createSource());
  });
  afterAll(() => db.drop());

  test('timestamps come out as ISO 8601 with microseconds, and the cursor state round-trips them exactly', async () => {
    const config = { ...connectionOf(db.url), pageSize: 4 };
    const stream = { name: 'incidents', primaryKey: ['station', 'seq'], cursorField: 'updated_at' };
    const read = await collectRead(postgresKind, config, { stream, mode: 'INCREMENTAL', state: null });
    expect(read.records).toHaveLength(N);
    expect(read.records[0]!.data.updated_at).toBe('2026-01-01T00:00:00.123456Z');
    expect(read.states.length).toBeGreaterThanOrEqual(Math.ceil(N / 4));
    // Without look-back, the saved state gives nothing more.
    const again = await collectRead(postgresKind, config, { stream, mode: 'INCREMENTAL', state: read.lastState });
    expect(again.records).toHaveLength(0);
  });

  test('full refresh ends with the cursor mark taken before the scan, so changes during the scan are not lost', async () => {
    const config = { ...connectionOf(db.url), pageSize: 5 };
    const stream = { name: 'incidents', primaryKey: ['station', 'seq'], cursorField: 'updated_at' };
    const messages: string[] = [];
    let updated = false;
    let finalState: unknown;
    for await (const m of postgresKind.read(config, { stream, mode: 'FULL_REFRESH', state: null })) {
      messages.push(m.type);
      if (m.type === 'state') finalState = m.state;
      if (m.type === 'record' && !updated) {
        updated = true; // a row already passed is changed while the scan runs
        await db.pool.query(`UPDATE public.incidents SET address = '改', updated_at = now() WHERE seq = 0`);
      }
    }
    expect(messages.filter((t) => t === 'record')).toHaveLength(N);
    expect(messages.at(-1)).toBe('state');
    const next = await collectRead(postgresKind, config, { stream, mode: 'INCREMENTAL', state: finalState });
    expect(next.records.map((r) => r.data.seq)).toContain(0);
  });

  test('a table without a primary key is discovered with an empty key and cannot be read incrementally', async () => {
    const config = connectionOf(db.url);
    const streams = await postgresKind.discover(config);
    expect(streams.find((s) => s.name === 'no_key')).toMatchObject({ primaryKey: [], cursorCandidates: [] });
    await expect(collectRead(postgresKind, config, { stream: { name: 'no_key', primaryKey: [] }, mode: 'FULL_REFRESH', state: null }))
      .rejects.toMatchObject({ code: 'TL_ERR_CONNECTOR_CONFIG' });
  });

  test('a closed port is a transient failure', async () => {
    const result = await postgresKind.check({ ...connectionOf(db.url), port: 1, connectTimeoutSeconds: 2 });
    expect(result).toMatchObject({ ok: false, code: 'TL_ERR_CONNECTOR_TRANSIENT' });
  });

  test('a police-shaped view: local timestamps get the configured offset, jsonb arrays come through, the key is configured', async () => {
    await db.pool.query(`CREATE TABLE public.t_jqxx (jqbh varchar PRIMARY KEY, fsdz varchar, gxsj timestamp NOT NULL)`);
    await db.pool.query(`CREATE VIEW public.v_jqxx AS SELECT j.*, jsonb_build_array(jsonb_build_object('xm', '张三', 'rylb', '01')) AS sary FROM public.t_jqxx j`);
    await db.pool.query(`INSERT INTO public.t_jqxx VALUES ('J510104202611200001', '成都市锦江区红星路二段88号', '2026-11-20 09:30:00'), ('J510104202611200002', NULL, '2026-11-20 09:31:00.5')`);
    const config = connectionOf(db.url);
    const view = (await postgresKind.discover(config)).find((s) => s.name === 'v_jqxx')!;
    expect(view).toMatchObject({ primaryKey: [], cursorCandidates: ['gxsj'] });
    const read = await collectRead(postgresKind, config, { stream: { name: 'v_jqxx', primaryKey: ['jqbh'], cursorField: 'gxsj' }, mode: 'INCREMENTAL', state: null });
    expect(read.records.map((r) => r.data)).toEqual([
      { jqbh: 'J510104202611200001', fsdz: '成都市锦江区红星路二段88号', gxsj: '2026-11-20T09:30:00+08:00', sary: [{ xm: '张三', rylb: '01' }] },
      { jqbh: 'J510104202611200002', fsdz: null, gxsj: '2026-11-20T09:31:00.5+08:00', sary: [{ xm: '张三', rylb: '01' }] },
    ]);
    expect(read.lastState).toEqual({ cursor: '2026-11-20 09:31:00.5', key: ['J510104202611200002'] });
  });

  test('pgTimestampToIso', () => {
    expect(pgTimestampToIso('2026-03-01 10:00:00+08')).toBe('2026-03-01T10:00:00+08:00');
    expect(pgTimestampToIso('2026-03-01 10:00:00.5+00')).toBe('2026-03-01T10:00:00.5Z');
    expect(pgTimestampToIso('2026-03-01 10:00:00')).toBe('2026-03-01T10:00:00');
  });
});
