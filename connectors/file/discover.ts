import type { StreamInfo } from '../contract';
import { validateAgainstSpec } from '../config-validation';
import { listFiles } from './files';
import { fieldNames } from './read';
import { csvRows, formatOf, xlsxRows } from './rows';
import { fileSpec, type FileConfig } from './spec';

/**
 * Each configured stream with the columns of its newest file's header row (after `columns` renaming).
 * File streams are incremental by file (content hash), so they offer no cursor column; fields that look
 * like change times are listed as candidates for the mapping's `_source_updated_at`.
 */
export async function discoverFiles(raw: Record<string, unknown>): Promise<StreamInfo[]> {
  const config = validateAgainstSpec<FileConfig>(fileSpec, raw);
  const out: StreamInfo[] = [];
  for (const stream of config.streams) {
    const files = await listFiles(config.path, stream.pattern);
    const newest = files[files.length - 1];
    let columns: string[] = [];
    const format = newest ? formatOf(newest.name, stream.format) : null;
    if (newest && format) {
      const rows = format === 'csv' ? csvRows(newest.fullPath, stream) : xlsxRows(newest.fullPath, stream);
      for await (const row of rows) {
        if (row.line < stream.headerRow) continue;
        columns = fieldNames(row.cells, stream.columns);
        break;
      }
      await rows.return(undefined);
    }
    out.push({
      name: stream.name,
      columns: columns.map((name) => ({ name, type: 'string', nullable: true })),
      primaryKey: stream.primaryKey,
      cursorCandidates: columns.filter((c) => /updat|modif|时间|日期/i.test(c)),
    });
  }
  return out;
}
