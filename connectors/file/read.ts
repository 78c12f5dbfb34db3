import type { ReadMessage, ReadOptions, RecordError } from '../contract';
import { validateAgainstSpec } from '../config-validation';
import { configError } from '../errors';
import { classifyFsError, listFiles, sha256File, type DroppedFile } from './files';
import { csvRows, formatOf, xlsxRows, type SourceRow } from './rows';
import { fileSpec, type FileConfig, type FileStreamConfig } from './spec';

/**
 * State of a file stream: every file already read, by the sha256 of its content, and the file being read
 * when the last checkpoint was taken (how many of its rows were emitted). So:
 *  - a file is read once; the same content moved or renamed is not read again;
 *  - a new file under an old name with new content is read (its hash is new);
 *  - a read stopped inside a file resumes after the rows already emitted.
 */
export interface FileStreamState {
  files: Record<string, { name: string; rows: number; readAt: string; error?: string }>;
  partial?: { sha256: string; name: string; rows: number };
}

function isFileState(v: unknown): v is FileStreamState {
  return !!v && typeof v === 'object' && 'files' in v && typeof (v as FileStreamState).files === 'object';
}

export function streamConfig(config: FileConfig, name: string): FileStreamConfig {
  const s = config.streams.find((x) => x.name === name);
  if (!s) throw configError(`file connector has no stream "${name}" (configured: ${config.streams.map((x) => x.name).join(', ')})`, { field: 'streams', stream: name });
  return s;
}

/** Header cells → field names: trimmed, BOM removed, renamed by `columns`, blanks named `column_<n>`. */
export function fieldNames(header: Array<string | null>, columns: Record<string, string>): string[] {
  return header.map((h, i) => {
    const text = (h ?? '').replace(/^\uFEFF/, '').trim();
    if (!text) return `column_${i + 1}`;
    return columns[text] ?? text;
  });
}

/** The rows of one file mapped to records (bad rows carry an error, never dropped). */
export async function* fileRecords(file: DroppedFile, stream: FileStreamConfig, log: (m: string) => void): AsyncGenerator<{ line: number; data: Record<string, unknown>; error?: RecordError }> {
  const format = formatOf(file.name, stream.format);
  if (!format) {
    yield { line: 0, data: {}, error: { reason: `unsupported file type "${file.name}" (CSV or XLSX expected; save .xls as .xlsx)` } };
    return;
  }
  const rows: AsyncGenerator<SourceRow> = format === 'csv'
    ? csvRows(file.fullPath, stream, (d) => log(`${file.name}: ${d.encoding} (${d.how})`))
    : xlsxRows(file.fullPath, stream);
  let fields: string[] | null = null;
  for await (const row of rows) {
    if (row.line < stream.headerRow) continue;
    if (!fields) {
      fields = fieldNames(row.cells, stream.columns);
      continue;
    }
    const data: Record<string, unknown> = {};
    fields.forEach((f, i) => { data[f] = row.cells[i] ?? null; });
    // Trailing empty cells beyond the header are harmless; any other count mismatch is a bad row.
    const extra = row.cells.slice(fields.length).some((c) => c !== null);
    if (row.problem) {
      yield { line: row.line, data, error: { reason: row.problem, ...(row.raw !== undefined ? { raw: row.raw } : {}) } };
    } else if (extra || (format === 'csv' && row.cells.length < fields.length)) {
      yield { line: row.line, data, error: { reason: `expected ${fields.length} columns, found ${row.cells.length}`, ...(row.raw !== undefined ? { raw: row.raw } : {}) } };
    } else {
      yield { line: row.line, data };
    }
  }
  if (!fields) log(`${file.name}: no header row (line ${stream.headerRow}) — the file is empty`);
}

export async function* readFiles(raw: Record<string, unknown>, options: ReadOptions): AsyncGenerator<ReadMessage> {
  const config = validateAgainstSpec<FileConfig>(fileSpec, raw);
  const stream = streamConfig(config, options.stream.name);
  if (options.state != null && !isFileState(options.state)) {
    throw configError(`stream "${stream.name}": saved state is not a file-stream state`, { stream: stream.name });
  }
  const incremental = options.mode === 'INCREMENTAL';
  const saved = incremental && isFileState(options.state) ? options.state : null;
  const state: FileStreamState = { files: { ...(saved?.files ?? {}) } };
  const resume = saved?.partial;
  const logs: string[] = [];
  const files = await listFiles(config.path, stream.pattern, config.minFileAgeSeconds);
  const seenThisRun = new Set<string>();
  for (const file of files) {
    options.signal?.throwIfAborted();
    const sha256 = await sha256File(file.fullPath);
    const known = state.files[sha256];
    if (seenThisRun.has(sha256) || (incremental && known && !(resume && resume.sha256 === sha256))) {
      if (known && known.name !== file.name) yield { type: 'log', level: 'info', message: `${file.name}: same content as ${known.name}, already read` };
      continue;
    }
    seenThisRun.add(sha256);
    const skip = resume && resume.sha256 === sha256 ? resume.rows : 0;
    let emitted = 0;
    let failure: string | undefined;
    try {
      for await (const r of fileRecords(file, stream, (m) => logs.push(m))) {
        while (logs.length) yield { type: 'log', level: 'info', message: logs.shift()! };
        emitted++;
        if (emitted <= skip) continue;
        yield {
          type: 'record', stream: stream.name, data: r.data,
          meta: { file: file.name, line: r.line, sha256 },
          ...(r.error ? { error: r.error } : {}),
        };
        if (emitted % config.checkpointEveryRows === 0) {
          yield { type: 'state', stream: stream.name, state: { files: { ...state.files }, partial: { sha256, name: file.name, rows: emitted } } satisfies FileStreamState };
        }
      }
    } catch (err) {
      // A file that cannot be parsed (a corrupt XLSX) is reported as one bad record and marked read; the
      // next files go on. Permission problems and an abort stop the read.
      const code = (err as { code?: string }).code;
      if (options.signal?.aborted || code === 'EACCES' || code === 'EPERM' || code === 'ENOENT') throw classifyFsError(err, file.fullPath);
      failure = (err as Error).message;
      emitted++;
      yield { type: 'record', stream: stream.name, data: {}, meta: { file: file.name, line: 0, sha256 }, error: { reason: `the file could not be read after ${emitted - 1} rows: ${failure}` } };
    }
    while (logs.length) yield { type: 'log', level: 'info', message: logs.shift()! };
    state.files[sha256] = { name: file.name, rows: emitted, readAt: new Date().toISOString(), ...(failure ? { error: failure } : {}) };
    yield { type: 'state', stream: stream.name, state: { files: { ...state.files } } satisfies FileStreamState };
  }
}
