import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { CORRECTION_HEADERS, MEDIATION_HEADERS, writeCorrectionsXlsx } from '../sources/justice';
import { csvLine } from '../writers';

/**
 * The justice department's drop folder: files appear complete (written under a temporary name, then renamed),
 * mediation cases as GBK CSV, the correction roster as XLSX. Readers key on 案件编号 / 矫正对象编号 and keep
 * the row with the newest 更新时间.
 */
export const TMP_PREFIX = '.tmp-';

/** Copy the generated justice files into the drop folder (files already there are left alone). */
export async function publishJusticeFiles(generatedDir: string, dropDir: string): Promise<string[]> {
  await mkdir(dropDir, { recursive: true });
  const published: string[] = [];
  for (const name of (await readdir(path.join(generatedDir, 'justice'))).sort()) {
    const target = path.join(dropDir, name);
    if (existsSync(target)) continue;
    await copyFile(path.join(generatedDir, 'justice', name), path.join(dropDir, TMP_PREFIX + name));
    await rename(path.join(dropDir, TMP_PREFIX + name), target);
    published.push(name);
  }
  return published;
}

/** Write a mediation CSV (GBK, Chinese headers) atomically. `rows` are objects keyed by header. */
export async function writeMediationFile(dropDir: string, name: string, rows: Record<string, string | null>[]): Promise<string> {
  const text = [csvLine(MEDIATION_HEADERS), ...rows.map((r) => csvLine(MEDIATION_HEADERS.map((h) => r[h] ?? null)))].join('\n') + '\n';
  await mkdir(dropDir, { recursive: true });
  await writeFile(path.join(dropDir, TMP_PREFIX + name), iconv.encode(text, 'gbk'));
  await rename(path.join(dropDir, TMP_PREFIX + name), path.join(dropDir, name));
  return path.join(dropDir, name);
}

/** Write a correction roster XLSX atomically. */
export async function writeCorrectionFile(dropDir: string, name: string, rows: unknown[][]): Promise<string> {
  await mkdir(dropDir, { recursive: true });
  await writeCorrectionsXlsx(path.join(dropDir, TMP_PREFIX + name), rows);
  await rename(path.join(dropDir, TMP_PREFIX + name), path.join(dropDir, name));
  return path.join(dropDir, name);
}

/** RFC 4180 CSV parsing (quoted fields, doubled quotes, commas and newlines inside quotes). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') { field += '"'; i++; } else quoted = false;
      } else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(field); field = ''; }
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field); rows.push(row); row = []; field = '';
    } else field += c;
  }
  if (field !== '' || row.length) { row.push(field); rows.push(row); }
  return rows;
}

/** Every mediation case in the drop folder, newest 更新时间 per 案件编号, as header → value (empty → null). */
export async function readMediationCases(dropDir: string): Promise<Map<string, Record<string, string | null>>> {
  const cases = new Map<string, Record<string, string | null>>();
  if (!existsSync(dropDir)) return cases;
  const files = (await readdir(dropDir)).filter((f) => /^mediation_cases_.*\.csv$/.test(f)).sort();
  for (const f of files) {
    const rows = parseCsv(iconv.decode(await readFile(path.join(dropDir, f)), 'gbk'));
    const header = rows[0] ?? [];
    for (const values of rows.slice(1)) {
      const rec: Record<string, string | null> = {};
      header.forEach((h, i) => { rec[h] = values[i] === undefined || values[i] === '' ? null : values[i]!; });
      const key = rec['案件编号'];
      if (!key) continue;
      const old = cases.get(key);
      if (!old || (old['更新时间'] ?? '') <= (rec['更新时间'] ?? '')) cases.set(key, rec);
    }
  }
  return cases;
}

/** The rows of the newest correction roster in the drop folder (values as ExcelJS reads them). */
export async function readLatestRoster(dropDir: string): Promise<{ file: string | null; rows: unknown[][] }> {
  if (!existsSync(dropDir)) return { file: null, rows: [] };
  const files = (await readdir(dropDir)).filter((f) => /^correction_subjects_.*\.xlsx$/.test(f)).sort();
  const file = files[files.length - 1];
  if (!file) return { file: null, rows: [] };
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.readFile(path.join(dropDir, file));
  const ws = wb.worksheets[0]!;
  const rows: unknown[][] = [];
  ws.eachRow((row, n) => {
    if (n === 1) return;
    rows.push(CORRECTION_HEADERS.map((_, i) => row.getCell(i + 1).value ?? null));
  });
  return { file, rows };
}
