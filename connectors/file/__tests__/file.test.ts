import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import { describeConformance, collectRead } from '../../conformance/suite';
import { fileKind } from '..';
import { CsvParser } from '../csv-parser';
import { detectEncoding } from '../encoding';
import { globToRegExp } from '../glob';
import { caseRows, COLUMNS, GBK_NAMES, HEADER, tempFolder, writeCsv, writeXlsx, type CaseRow } from './drops';

const day = (d: number) => new Date(Date.UTC(2026, 10, d, 2, 0, 0));

describeConformance('file', async () => {
  const folder = await tempFolder('fileconf');
  const current = new Map<string, CaseRow[]>();
  const put = (name: string, rows: CaseRow[]) => current.set(name, rows);
  put('调解案件_2026-11-01.csv', caseRows('TJ20261101', 10, GBK_NAMES));
  put('调解案件_2026-11-02.csv', caseRows('TJ20261102', 8));
  put('调解案件_2026-11-03.xlsx', caseRows('TJ20261103', 7));
  await writeCsv(folder.dir, '调解案件_2026-11-01.csv', current.get('调解案件_2026-11-01.csv')!, 'gbk', day(1));
  await writeCsv(folder.dir, '调解案件_2026-11-02.csv', current.get('调解案件_2026-11-02.csv')!, 'gb18030', day(2));
  await writeXlsx(folder.dir, '调解案件_2026-11-03.xlsx', current.get('调解案件_2026-11-03.xlsx')!, day(3));
  await writeFile(join(folder.dir, 'readme.txt'), 'not a drop of this stream');
  const stream = { name: 'mediation_cases', pattern: '调解案件_*.{csv,xlsx}', columns: COLUMNS, primaryKey: ['case_no'] };
  const good = { path: folder.dir, streams: [stream], checkpointEveryRows: 4 };
  return {
    kind: fileKind,
    goodConfig: good,
    badConfigs: [
      { config: { ...good, path: join(folder.dir, 'no-such-folder') }, field: 'no-such-folder' },
      { config: { ...good, streams: [] }, field: 'streams' },
      { config: { path: folder.dir, streams: [{ name: 'x' }] }, field: 'streams.0.pattern' },
      { config: { path: folder.dir, streams: [{ name: 'x', pattern: '{a,b' }] }, field: 'streams.0.pattern' },
      { config: { path: folder.dir, streams: [{ name: 'x', pattern: '*.csv', encoding: 'big5' }] }, field: 'streams.0.encoding' },
    ],
    wrongAuth: { notApplicable: 'a drop folder has no credentials; the hub process reads it with its own file permissions' },
    secretFields: [],
    stream: { name: 'mediation_cases', primaryKey: ['case_no'] },
    compareFields: ['case_no', 'name', 'id_number', 'address', 'dispute_type'],
    keyOf: (d) => String(d.case_no),
    async sourceRows() {
      const byKey = new Map<string, CaseRow>();
      for (const rows of current.values()) for (const r of rows) byKey.set(r.case_no, { ...r });
      return [...byKey.values()] as unknown as Record<string, unknown>[];
    },
    async mutate() {
      // The XLSX is renamed (same content: not read again); the 11-02 file is re-dropped with changes.
      await rename(join(folder.dir, '调解案件_2026-11-03.xlsx'), join(folder.dir, '调解案件_2026-11-03_副本.xlsx'));
      current.set('调解案件_2026-11-03_副本.xlsx', current.get('调解案件_2026-11-03.xlsx')!);
      current.delete('调解案件_2026-11-03.xlsx');
      const changed = caseRows('TJ20261102', 9);
      changed[2]!.name = '张𠮷（更正）';
      put('调解案件_2026-11-02.csv', changed);
      await writeCsv(folder.dir, '调解案件_2026-11-02.csv', changed, 'gb18030', day(4));
      return { changedKeys: changed.map((r) => r.case_no) };
    },
    cleanup: () => folder.remove(),
  };
});

describe('file specifics', () => {
  let folder: { dir: string; remove(): Promise<void> };
  beforeEach(async () => {
    folder = await tempFolder('filespec');
  });
  afterEach(() => folder.remove());
  const config = (pattern: string, extra: Record<string, unknown> = {}) => ({ path: folder.dir, streams: [{ name: 's', pattern, columns: COLUMNS, primaryKey: ['case_no'], ...extra }] });
  const read = (cfg: Record<string, unknown>, state: unknown = null, mode: 'INCREMENTAL' | 'FULL_REFRESH' = 'INCREMENTAL') =>
    collectRead(fileKind, cfg, { stream: { name: 's', primaryKey: ['case_no'] }, mode, state });

  test('bad rows (wrong column count, undecodable bytes, unclosed quote) are records with an error marker, never dropped', async () => {
    const good = caseRows('BAD', 3, GBK_NAMES);
    const lines = [
      iconv.encode(`${HEADER.join(',')}\r\n`, 'gbk'),
      iconv.encode(`${good[0]!.case_no},${good[0]!.name},${good[0]!.id_number},"${good[0]!.address}，含逗号,和换行\n第二行",${good[0]!.dispute_type}\r\n`, 'gbk'),
      iconv.encode(`BAD-X,只有三列,123\r\n`, 'gbk'),
      Buffer.concat([iconv.encode('BAD-Y,', 'gbk'), Buffer.from([0xff, 0xff]), iconv.encode(',1,地址,类型\r\n', 'gbk')]),
      iconv.encode(`${good[1]!.case_no},${good[1]!.name},${good[1]!.id_number},${good[1]!.address},${good[1]!.dispute_type}\r\n`, 'gbk'),
      iconv.encode(`BAD-Z,"未闭合的引号,x,y,z\r\n`, 'gbk'),
    ];
    await writeFile(join(folder.dir, 'drop.csv'), Buffer.concat(lines));
    const { records } = await read(config('*.csv'));
    expect(records).toHaveLength(5);
    expect(records[0]!.data.address).toBe(`${good[0]!.address}，含逗号,和换行\n第二行`);
    expect(records[0]!.error).toBeUndefined();
    expect(records[1]).toMatchObject({ meta: { line: 4, file: 'drop.csv' }, error: { reason: 'expected 5 columns, found 3', raw: 'BAD-X,只有三列,123' } });
    expect(records[2]).toMatchObject({ meta: { line: 5 }, error: { reason: expect.stringContaining('undecodable') } });
    expect(records[3]!.data).toMatchObject({ case_no: good[1]!.case_no, name: good[1]!.name });
    expect(records[3]!.error).toBeUndefined();
    expect(records[4]).toMatchObject({ meta: { line: 7 }, error: { reason: expect.stringContaining('quoted field') } });
  });

  test('a UTF-8 file with one bad byte stays UTF-8; only that row is flagged', async () => {
    const rows = caseRows('U8', 60);
    const text = Buffer.from(`\uFEFF${HEADER.join(',')}\n${rows.map((r) => Object.values(r).join(',')).join('\n')}\n`, 'utf8');
    const broken = Buffer.concat([text, Buffer.from('U8-BAD,'), Buffer.from([0xc3, 0x28]), Buffer.from(',x,y,z\n')]);
    await writeFile(join(folder.dir, 'u.csv'), broken);
    const { records } = await read(config('*.csv'));
    expect(records).toHaveLength(61);
    expect(records.filter((r) => r.error).map((r) => r.data.case_no)).toEqual(['U8-BAD']);
    expect(records[0]!.data).toMatchObject({ case_no: 'U8-001', name: '王建国' });
  });

  test('an identical file dropped twice under two names is read once; the same name with new content is read again', async () => {
    const rows = caseRows('DUP', 3, GBK_NAMES);
    await writeCsv(folder.dir, 'a.csv', rows, 'gbk', day(1));
    await writeCsv(folder.dir, 'b.csv', rows, 'gbk', day(2));
    const first = await read(config('*.csv'));
    expect(first.records).toHaveLength(3);
    expect(first.records.every((r) => r.meta?.file === 'a.csv')).toBe(true);
    await writeCsv(folder.dir, 'a.csv', caseRows('DUP', 4, GBK_NAMES), 'gbk', day(3));
    const second = await read(config('*.csv'), first.lastState);
    expect(second.records.map((r) => r.data.case_no)).toEqual(['DUP-001', 'DUP-002', 'DUP-003', 'DUP-004']);
    expect((await read(config('*.csv'), second.lastState)).records).toHaveLength(0);
  });

  test('XLSX: sheet by name, dates as ISO dates, numbers as text, Chinese intact; .xls reported, not dropped', async () => {
    await writeXlsx(folder.dir, 'x.xlsx', caseRows('XL', 2), day(1), (ws) => {
      ws.addRow(['XL-DATE', '日期行', 510107197001011234, '成都市锦江区春熙路1号', new Date(Date.UTC(2026, 10, 21))]);
    });
    await writeFile(join(folder.dir, 'old.xls'), Buffer.from([0xd0, 0xcf, 0x11, 0xe0]));
    await writeFile(join(folder.dir, 'corrupt.xlsx'), Buffer.from('PK\u0003\u0004 this is not really a zip'));
    const { records, lastState } = await read(config('*.xls*', { sheet: '调解案件' }));
    expect(records).toHaveLength(5);
    expect(records.find((r) => r.meta?.file === 'corrupt.xlsx')!.error!.reason).toContain('could not be read');
    expect(Object.values((lastState as { files: Record<string, { name: string; error?: string }> }).files).find((f) => f.name === 'corrupt.xlsx')!.error).toBeTruthy();
    expect(records[0]!.data).toMatchObject({ case_no: 'XL-001', name: '王建国', address: '四川省成都市武侯区浆洗街街道洗面桥社区1栋1单元' });
    expect(records[2]!.data).toMatchObject({ case_no: 'XL-DATE', dispute_type: '2026-11-21' });
    expect(records.find((r) => r.meta?.file === 'old.xls')!.error!.reason).toContain('unsupported file type');
  });

  test('encoding detection: GBK and GB18030 bytes → GB18030, UTF-8, BOM, and the configured override', () => {
    const text = '当事人,住址\n张𠮷,成都市武侯区浆洗街街道\n';
    expect(detectEncoding(iconv.encode('王建国,成都市武侯区玉林街道', 'gbk')).encoding).toBe('gb18030');
    expect(detectEncoding(iconv.encode(text, 'gb18030')).encoding).toBe('gb18030');
    expect(iconv.decode(iconv.encode(text, 'gb18030'), detectEncoding(iconv.encode(text, 'gb18030')).encoding)).toBe(text);
    expect(detectEncoding(Buffer.from(text, 'utf8')).encoding).toBe('utf-8');
    expect(detectEncoding(Buffer.from(`\uFEFF${text}`, 'utf8'))).toMatchObject({ encoding: 'utf-8', how: 'UTF-8 BOM' });
    expect(detectEncoding(Buffer.from(text, 'utf8'), 'gbk').encoding).toBe('gb18030');
  });

  test('CSV parser: quotes, escaped quotes, CRLF, blank lines, chunk boundaries', () => {
    const p = new CsvParser(',');
    const input = 'a,b\r\n"x ""q""",\r\n\r\n"多\n行",z\n';
    const rows = [...input].flatMap((ch) => p.push(ch)).concat(p.end());
    expect(rows.map((r) => r.fields)).toEqual([['a', 'b'], ['x "q"', ''], ['多\n行', 'z']]);
    expect(rows.map((r) => r.line)).toEqual([1, 2, 4]);
  });

  test('glob patterns', () => {
    expect(globToRegExp('调解*.{csv,xlsx}').test('调解案件.XLSX')).toBe(true);
    expect(globToRegExp('a/**/*.csv').test('a/b/c/d.csv')).toBe(true);
    expect(globToRegExp('a/**/*.csv').test('a/d.csv')).toBe(true);
    expect(globToRegExp('*.csv').test('a/d.csv')).toBe(false);
  });
});
