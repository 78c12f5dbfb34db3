import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { TEST_MYSQL_URL } from '../../../test/support/services';
import { describeConformance, collectRead } from '../../conformance/suite';
import type { StreamConfig } from '../../contract';
import { mysqlKind } from '..';
import { mysqlDatetimeToIso } from '../read';

const LOOKBACK = 120;
const N = 25;
const SURNAMES = ['陈', '杨', '黄', '周', '吴'];

interface Source {
  admin: mysql.Connection;
  database: string;
  user: string;
  password: string;
  drop(): Promise<void>;
}

/** A database and a password-protected user of its own on the real MariaDB (civil-affairs-like households). */
async function createSource(): Promise<Source> {
  const u = new URL(TEST_MYSQL_URL);
  const admin = await mysql.createConnection({ host: u.hostname, port: Number(u.port || 3306), user: decodeURIComponent(u.username), password: decodeURIComponent(u.password), charset: 'utf8mb4', dateStrings: true });
  const suffix = randomBytes(4).toString('hex');
  const database = `tl_src_${suffix}`;
  const user = `tl_conf_${suffix}`;
  const password = `pw-${randomBytes(8).toString('hex')}`;
  await admin.query(`CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await admin.query(`CREATE USER '${user}'@'%' IDENTIFIED BY '${password}'`);
  await admin.query(`CREATE USER '${user}'@'localhost' IDENTIFIED BY '${password}'`);
  await admin.query(`GRANT SELECT ON \`${database}\`.* TO '${user}'@'%'`);
  await admin.query(`GRANT SELECT ON \`${database}\`.* TO '${user}'@'localhost'`);
  await admin.query(`CREATE TABLE \`${database}\`.subsidies (
    household_no VARCHAR(20) NOT NULL, member_no INT NOT NULL, name VARCHAR(50) NOT NULL, address VARCHAR(200),
    amount DECIMAL(10,2), updated_at DATETIME(6) NOT NULL, PRIMARY KEY (household_no, member_no))`);
  for (let i = 0; i < N; i++) {
    await admin.query(`INSERT INTO \`${database}\`.subsidies VALUES (?, ?, ?, ?, ?, TIMESTAMPADD(MINUTE, ?, '2026-01-01 08:00:00.654321'))`,
      [`H${String(Math.floor(i / 2)).padStart(4, '0')}`, i % 2, `${SURNAMES[i % 5]}${'桂英秀兰建国'.slice(i % 3, i % 3 + 2)}`, `成都市成华区猛追湾街道望平街${i + 1}号`, 600 + i, Math.floor(i / 3)]);
  }
  return {
    admin, database, user, password,
    async drop() {
      await admin.query(`DROP DATABASE IF EXISTS \`${database}\``);
      await admin.query(`DROP USER IF EXISTS '${user}'@'%'`);
      await admin.query(`DROP USER IF EXISTS '${user}'@'localhost'`);
      await admin.end();
    },
  };
}

const hostPort = () => {
  const u = new URL(TEST_MYSQL_URL);
  return { host: u.hostname, port: Number(u.port || 3306) };
};

describeConformance('mysql', async () => {
  const src = await createSource();
  const good = { ...hostPort(), database: src.database, user: src.user, pageSize: 7 };
  const stream: StreamConfig = { name: 'subsidies', primaryKey: ['household_no', 'member_no'], cursorField: 'updated_at', lookbackSeconds: LOOKBACK };
  const table = `\`${src.database}\`.subsidies`;
  return {
    kind: mysqlKind,
    goodConfig: { ...good, password: src.password },
    badConfigs: [
      { config: { ...good, password: src.password, port: 70000 }, field: 'port' },
      { config: { ...good, password: src.password, timeZone: 'Asia/Shanghai' }, field: 'timeZone' },
      { config: { host: '127.0.0.1', database: src.database }, field: 'user' },
      { config: { ...good, user: 'root', password: '', database: 'tl_no_such_db_y' }, field: 'database' },
    ],
    wrongAuth: { config: { ...good, password: 'wrong-password' } },
    secretFields: ['password'],
    stream,
    compareFields: ['household_no', 'member_no', 'name', 'address', 'updated_at'],
    keyOf: (d) => `${d.household_no}|${d.member_no}`,
    async sourceRows() {
      const [rows] = await src.admin.query(`SELECT household_no, member_no, name, address, updated_at FROM ${table}`);
      return (rows as Array<Record<string, unknown>>).map((r) => ({ ...r, updated_at: mysqlDatetimeToIso(String(r.updated_at), '+08:00') }));
    },
    async mutate() {
      await src.admin.query(`UPDATE ${table} SET name = CONCAT(name, '（复核）'), updated_at = NOW(6) WHERE member_no = 1 AND household_no IN ('H0000', 'H0005')`);
      await src.admin.query(`INSERT INTO ${table} VALUES ('H9000', 0, '诸葛亮', '成都市武侯区武侯祠大街231号', 800, NOW(6))`);
      return { changedKeys: ['H0000|1', 'H0005|1', 'H9000|0'] };
    },
    duplicateAllowed(data, state) {
      const cursor = Date.parse(mysqlDatetimeToIso(String((state as { cursor: string }).cursor), '+08:00'));
      return Date.parse(String(data.updated_at)) >= cursor - LOOKBACK * 1000;
    },
    cleanup: () => src.drop(),
  };
});

describe('mysql specifics', () => {
  let src: Source;
  beforeAll(async () => {
    src = await createSource();
  });
  afterAll(() => src.drop());

  test('DATETIME(6) values keep their microseconds and carry the source offset; Chinese text intact', async () => {
    const config = { ...hostPort(), database: src.database, user: src.user, password: src.password, pageSize: 10 };
    const stream = { name: 'subsidies', primaryKey: ['household_no', 'member_no'], cursorField: 'updated_at' };
    const read = await collectRead(mysqlKind, config, { stream, mode: 'INCREMENTAL', state: null });
    expect(read.records).toHaveLength(N);
    expect(read.records[0]!.data).toMatchObject({ household_no: 'H0000', member_no: 0, name: '陈桂英', updated_at: '2026-01-01T08:00:00.654321+08:00' });
    expect(read.states).toHaveLength(3);
    const again = await collectRead(mysqlKind, config, { stream, mode: 'INCREMENTAL', state: read.lastState });
    expect(again.records).toHaveLength(0);
  });

  test('a closed port is a transient failure; an unknown table is a configuration error', async () => {
    expect(await mysqlKind.check({ host: '127.0.0.1', port: 1, database: src.database, user: src.user, connectTimeoutSeconds: 2 }))
      .toMatchObject({ ok: false, code: 'TL_ERR_CONNECTOR_TRANSIENT' });
    const config = { ...hostPort(), database: src.database, user: src.user, password: src.password };
    await expect(collectRead(mysqlKind, config, { stream: { name: 'subsidies', primaryKey: ['nope'] }, mode: 'FULL_REFRESH', state: null }))
      .rejects.toMatchObject({ code: 'TL_ERR_CONNECTOR_CONFIG' });
  });
});
