import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';

/** Helpers writing real drop files: CSV encoded with iconv-lite, XLSX written with exceljs. */
export interface CaseRow {
  case_no: string;
  name: string;
  id_number: string;
  address: string;
  dispute_type: string;
}

export const HEADER = ['案件编号', '当事人', '身份证号', '住址', '纠纷类型'];
export const COLUMNS = { 案件编号: 'case_no', 当事人: 'name', 身份证号: 'id_number', 住址: 'address', 纠纷类型: 'dispute_type' };

/** 𠮷 (U+20BB7) exists only in GB18030 (four bytes), not in GBK. */
export const NAMES = ['王建国', '李秀英', '张𠮷', '赵丽华', '欧阳振华', '刘䶮', '钱多多'];
export const GBK_NAMES = ['王建国', '李秀英', '张伟', '赵丽华', '欧阳振华', '刘䶮', '钱多多'];
const TYPES = ['邻里纠纷', '婚姻家庭纠纷', '劳务纠纷', '物业纠纷'];

export function caseRows(prefix: string, n: number, names = NAMES): CaseRow[] {
  return Array.from({ length: n }, (_, i) => ({
    case_no: `${prefix}-${String(i + 1).padStart(3, '0')}`,
    name: names[i % names.length]!,
    id_number: `51010719${String(70 + (i % 30)).padStart(2, '0')}0101${String(100 + i).slice(-3)}X`,
    address: `四川省成都市武侯区浆洗街街道洗面桥社区${i + 1}栋${(i % 3) + 1}单元`,
    dispute_type: TYPES[i % TYPES.length]!,
  }));
}

function csvField(v: string): string {
  return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export function csvText(rows: CaseRow[]): string {
  return [HEADER, ...rows.map((r) => [r.case_no, r.name, r.id_number, r.address, r.dispute_type])]
    .map((cells) => cells.map(csvField).join(',')).join('\r\n') + '\r\n';
}

export async function writeCsv(dir: string, name: string, rows: CaseRow[], encoding: 'gbk' | 'gb18030' | 'utf-8', mtime?: Date): Promise<string> {
  const path = join(dir, name);
  const bytes = iconv.encode(csvText(rows), encoding);
  // iconv-lite writes '?' for a character the encoding lacks: refuse, so a fixture never mangles a name itself.
  if (iconv.decode(bytes, encoding) !== csvText(rows)) throw new Error(`${name}: text not representable in ${encoding}`);
  await writeFile(path, bytes);
  if (mtime) await utimes(path, mtime, mtime);
  return path;
}

export async function writeXlsx(dir: string, name: string, rows: CaseRow[], mtime?: Date, extra?: (ws: ExcelJS.Worksheet) => void): Promise<string> {
  const path = join(dir, name);
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('调解案件');
  ws.addRow(HEADER);
  for (const r of rows) ws.addRow([r.case_no, r.name, r.id_number, r.address, r.dispute_type]);
  extra?.(ws);
  await wb.xlsx.writeFile(path);
  if (mtime) await utimes(path, mtime, mtime);
  return path;
}

export async function tempFolder(label: string): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `tl-${label}-`));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}
