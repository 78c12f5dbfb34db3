import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { CsvParser } from './csv-parser';
import { detectEncoding, type DetectedEncoding } from './encoding';
import type { FileStreamConfig } from './spec';

/** One row of a dropped file, before header mapping. */
export interface SourceRow {
  /** Line (CSV) or row number (XLSX), 1-based. */
  line: number;
  cells: Array<string | null>;
  raw?: string;
  /** Why the row cannot be trusted (undecodable bytes, unterminated quote). */
  problem?: string;
}

export type FileFormat = 'csv' | 'xlsx';

export function formatOf(name: string, setting: FileStreamConfig['format']): FileFormat | null {
  if (setting !== 'auto') return setting;
  if (/\.(csv|txt|tsv)$/i.test(name)) return 'csv';
  if (/\.xlsx$/i.test(name)) return 'xlsx';
  return null;
}

async function readSample(path: string, bytes = 65536): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    const { bytesRead } = await handle.read(buffer, 0, bytes, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** CSV rows, decoded as detected (or configured); the detection is reported through `onEncoding`. */
export async function* csvRows(path: string, stream: FileStreamConfig, onEncoding?: (d: DetectedEncoding) => void): AsyncGenerator<SourceRow> {
  const detected = detectEncoding(await readSample(path), stream.encoding);
  onEncoding?.(detected);
  const parser = new CsvParser(stream.delimiter);
  const decoder = createReadStream(path).pipe(iconv.decodeStream(detected.encoding, { stripBOM: true }));
  const convert = (r: ReturnType<CsvParser['push']>[number]): SourceRow => {
    const problem = r.unterminated ? 'a quoted field is not closed before the end of the file'
      : r.fields.some((f) => f.includes('\uFFFD')) ? `undecodable bytes (not valid ${detected.encoding.toUpperCase()})` : undefined;
    return { line: r.line, cells: r.fields.map((f) => (f === '' ? null : f)), raw: r.raw, ...(problem ? { problem } : {}) };
  };
  for await (const chunk of decoder) {
    for (const r of parser.push(String(chunk))) yield convert(r);
  }
  for (const r of parser.end()) yield convert(r);
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** A cell's value as text: rich text joined, formulas by result, dates as ISO 8601 (date only at midnight). */
export function cellText(value: unknown): string | null {
  if (value === null || value === undefined || value === '') return null;
  if (value instanceof Date) {
    const d = `${value.getUTCFullYear()}-${pad(value.getUTCMonth() + 1)}-${pad(value.getUTCDate())}`;
    const t = `${pad(value.getUTCHours())}:${pad(value.getUTCMinutes())}:${pad(value.getUTCSeconds())}`;
    return t === '00:00:00' ? d : `${d}T${t}`;
  }
  if (typeof value === 'object') {
    const v = value as { richText?: Array<{ text: string }>; text?: unknown; result?: unknown; error?: string; hyperlink?: string };
    if (Array.isArray(v.richText)) return v.richText.map((p) => p.text).join('');
    if ('result' in v) return cellText(v.result);
    if (v.text !== undefined) return cellText(v.text);
    if (v.error) return v.error;
    return JSON.stringify(value);
  }
  return String(value);
}

/** Rows of one sheet of an XLSX file, streamed (exceljs WorkbookReader: the workbook is never held whole). */
export async function* xlsxRows(path: string, stream: FileStreamConfig): AsyncGenerator<SourceRow> {
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(path, { worksheets: 'emit', sharedStrings: 'cache', styles: 'cache', hyperlinks: 'ignore', entries: 'ignore' });
  let index = 0;
  for await (const sheet of reader) {
    index++;
    const wanted = stream.sheet === undefined ? index === 1
      : typeof stream.sheet === 'number' ? index === stream.sheet : (sheet as unknown as { name: string }).name === stream.sheet;
    if (!wanted) {
      for await (const _row of sheet) { /* drain: the reader is sequential */ }
      continue;
    }
    for await (const row of sheet) {
      const values = (row.values as unknown[]) ?? [];
      const cells: Array<string | null> = [];
      for (let c = 1; c < values.length; c++) cells.push(cellText(values[c]));
      while (cells.length && cells[cells.length - 1] === null) cells.pop();
      if (!cells.length) continue;
      yield { line: row.number, cells };
    }
  }
}
