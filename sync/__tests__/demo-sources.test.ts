import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '../../test/support/db';
import { TEST_MYSQL_URL, TEST_PG_URL } from '../../test/support/services';
import { dropDatabase, withDatabase } from '../../platform/db';
import { partLogger } from '../../platform/logger';
import { setConnectorRuntime } from '../../connectors/registry';
import ExcelJS from 'exceljs';
import { seedDemoSystems, type DemoSystems } from '../../demo/seed';
import { applyConnectorsFile, parseConnectorsFile } from '../connectors-file';
import { createConnector } from '../connector-store';
import { executeRun } from '../run-sync';
import { enqueueRun } from '../runs';

/**
 * The connectors of config/connectors.yaml against the real demo department systems (a small seed): the
 * police PostgreSQL database, the civil-affairs MariaDB database, and the justice drop folder with its GBK CSV
 * exports and XLSX roster — Chinese text must arrive intact.
 */
jest.setTimeout(180_000);
const log = partLogger('demo-sources-test');
log.level = 'silent';

const suffix = randomBytes(3).toString('hex');
const policeUrl = withDatabase(TEST_PG_URL, `tl_demo_police_${suffix}`);
const mysqlUrl = TEST_MYSQL_URL.replace(/\/[^/]*$/, `/tl_demo_civil_${suffix}`);
const dir = mkdtempSync(join(tmpdir(), 'tonglan-sync-demo-'));
let hub: TestDatabase;
let demo: DemoSystems;

beforeAll(async () => {
  hub = await createTestDatabase('syncdemo');
  setConnectorRuntime({ pool: hub.pool });
  demo = await seedDemoSystems({ seed: 7, persons: 200, policeUrl, mysqlUrl, dir, asOf: '2026-11-20', events: { incidents: 0.5, mediation: 0.3, petitions: 0.1 } });
});

afterAll(async () => {
  await demo?.civil.query(`DROP DATABASE IF EXISTS \`tl_demo_civil_${suffix}\``).catch(() => undefined);
  await demo?.close();
  await dropDatabase(policeUrl).catch(() => undefined);
  await hub?.drop();
  rmSync(dir, { recursive: true, force: true });
});

it('syncs the demo police, civil-affairs and justice systems through the declared connectors', async () => {
  const env = { ...process.env, DEMO_POLICE_DATABASE_URL: policeUrl, DEMO_MYSQL_URL: mysqlUrl, DEMO_DIR: dir };
  const connectors = await applyConnectorsFile(hub.pool, join(__dirname, '..', '..', 'config', 'connectors.yaml'), log, env);
  expect(connectors).toHaveLength(4);
  const results: Record<string, unknown> = {};
  for (const c of connectors.filter((x) => x.kind !== 'http')) {
    const { run } = await enqueueRun(hub.pool, c.id, 'INCREMENTAL', 'test');
    results[c.name] = await executeRun({ pool: hub.pool, runId: run.id, connectorId: c.id, mode: 'INCREMENTAL', log, batchSize: 2000 });
  }
  const { rows: reasons } = await hub.pool.query(`SELECT stream, e->>'field' AS field, min(e->>'reason') AS reason, count(*)::int AS n
    FROM hub.quarantine, jsonb_array_elements(errors) e GROUP BY 1, 2 ORDER BY 4 DESC LIMIT 12`);
  if (reasons.length) log.warn({ reasons }, 'quarantined demo records');
  for (const [name, r] of Object.entries(results)) {
    const result = r as { status: string; read: number; written: number; quarantined: number };
    expect({ name, status: result.status }).toEqual({ name, status: 'succeeded' });
    expect(result.read).toBeGreaterThan(0);
    // Noise is deliberate in the demo data: a few records may be quarantined, never most of them.
    expect(result.written).toBeGreaterThan(result.read * 0.8);
  }

  const police = await demo.police.query(`SELECT jqbh, jyqk FROM v_jqxx ORDER BY jqbh LIMIT 5`);
  const { rows: incidents } = await hub.pool.query(`SELECT incident_no, summary FROM police.incidents WHERE incident_no = ANY($1) ORDER BY incident_no`, [police.rows.map((r) => r.jqbh)]);
  expect(incidents.map((r) => [r.incident_no, r.summary])).toEqual(police.rows.map((r) => [r.jqbh, r.jyqk]));

  // 与户主关系 arrives as a GB/T 4761 code and is served by name.
  const { rows: relations } = await hub.pool.query(`SELECT DISTINCT relation_to_head AS r FROM police.household_registrations`);
  expect(relations.map((r) => r.r)).toContain('户主');
  for (const r of relations) expect(r.r).toMatch(/^[\u4e00-\u9fa5、]+$/);

  // GBK CSV: Chinese dispute types and mediation organisations intact; XLSX roster: names and dates.
  const { rows: cases } = await hub.pool.query(`SELECT dispute_type, mediation_org, status FROM justice.mediation_cases LIMIT 20`);
  expect(cases.length).toBeGreaterThan(0);
  for (const c of cases) {
    expect(c.dispute_type).toMatch(/纠纷|争议/);
    expect(c.mediation_org).toMatch(/调解/);
  }
  const { rows: corrections } = await hub.pool.query(`SELECT name, correction_type, birth_date FROM justice.corrections LIMIT 20`);
  const rosters = readdirSync(demo.justiceDir).filter((f) => f.endsWith('.xlsx'));
  let rosterRows = 0;
  for (const f of rosters) {
    const book = new ExcelJS.Workbook();
    await book.xlsx.readFile(join(demo.justiceDir, f));
    rosterRows += Math.max(0, (book.worksheets[0]?.actualRowCount ?? 1) - 1);
  }
  const { rows: [{ n: correctionCount }] } = await hub.pool.query(`SELECT count(*)::int AS n FROM justice.corrections`);
  expect(correctionCount).toBe(rosterRows);
  for (const c of corrections) {
    expect(c.name).toMatch(/^[\u4e00-\u9fa5·]{2,}$/);
    expect(['缓刑', '假释', '暂予监外执行', '管制']).toContain(c.correction_type);
  }
  const { rows: events } = await hub.pool.query(`SELECT kind, count(*)::int AS n FROM core.events GROUP BY kind ORDER BY kind`);
  expect(events.map((e) => e.kind)).toEqual(expect.arrayContaining(['mediation_case', 'police_incident']));
  const { rows: parties } = await hub.pool.query(`SELECT count(*)::int AS n FROM justice.case_parties`);
  expect(parties[0].n).toBeGreaterThan(0);
});

it('loads an XLSX correction roster (Excel date cells, Chinese text) through the declared justice mapping', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'tonglan-xlsx-'));
  try {
    const book = new ExcelJS.Workbook();
    const sheet = book.addWorksheet('社区矫正对象花名册');
    sheet.addRow(['矫正对象编号', '姓名', '性别', '民族', '身份证号码', '出生日期', '户籍地', '居住地', '矫正类别', '罪名', '原判刑期',
      '矫正起始日期', '矫正终止日期', '矫正状态', '管理类别', '负责司法所', '联系电话', '更新时间']);
    sheet.addRow(['SQJZ510104000001', '欧阳娜娜', '女', '汉族', '510104198503121236', new Date(Date.UTC(1985, 2, 12)), '四川省成都市锦江区',
      '锦江区春熙路街道红星路二段88号', '缓刑', '危险驾驶罪', '拘役三个月', new Date(Date.UTC(2025, 0, 6)), new Date(Date.UTC(2025, 6, 5)),
      '在矫', '普管', '锦江区司法局春熙路司法所', '13800138000', '2025-01-06 09:30:00']);
    await book.xlsx.writeFile(join(folder, 'correction_subjects_20250106.xlsx'));

    const env = { ...process.env, DEMO_POLICE_DATABASE_URL: policeUrl, DEMO_MYSQL_URL: mysqlUrl, DEMO_DIR: dir };
    const justice = parseConnectorsFile(readFileSync(join(__dirname, '..', '..', 'config', 'connectors.yaml'), 'utf8'), env).find((c) => c.department === 'JUSTICE')!;
    const { demo: _demo, ...input } = justice;
    void _demo;
    const connector = await createConnector(hub.pool, {
      ...input, name: 'xlsx-roster',
      config: { ...input.config, path: folder },
      streams: input.streams.filter((s) => s.name === 'correction_subjects'),
    });
    const { run } = await enqueueRun(hub.pool, connector.id, 'INCREMENTAL', 'test');
    const result = await executeRun({ pool: hub.pool, runId: run.id, connectorId: connector.id, mode: 'INCREMENTAL', log, batchSize: 100 });
    expect(result).toMatchObject({ status: 'succeeded', read: 1, written: 1, quarantined: 0 });
    const { rows } = await hub.pool.query(
      `SELECT name, sex, birth_date, correction_type, crime, start_date, end_date, status, supervising_office, address FROM justice.corrections WHERE _connector_id = $1`, [connector.id]);
    expect(rows).toEqual([{
      name: '欧阳娜娜', sex: 'F', birth_date: '1985-03-12', correction_type: '缓刑', crime: '危险驾驶罪', start_date: '2025-01-06', end_date: '2025-07-05',
      status: '在矫', supervising_office: '锦江区司法局春熙路司法所', address: '锦江区春熙路街道红星路二段88号',
    }]);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});
