import type { ConnectorSpec } from '../contract';

export type FileEncoding = 'auto' | 'utf-8' | 'gbk' | 'gb18030';

export interface FileStreamConfig {
  name: string;
  pattern: string;
  format: 'auto' | 'csv' | 'xlsx';
  encoding: FileEncoding;
  delimiter: string;
  headerRow: number;
  sheet?: string | number;
  columns: Record<string, string>;
  primaryKey: string[];
}

export interface FileConfig {
  path: string;
  streams: FileStreamConfig[];
  minFileAgeSeconds: number;
  checkpointEveryRows: number;
}

export const fileSpec: ConnectorSpec = {
  kind: 'file',
  title: 'File drop folder (CSV in UTF-8 / GBK / GB18030, XLSX)',
  supportsIncremental: true,
  supportsDeletes: false,
  configSchema: {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'Folder of dropped files',
    type: 'object',
    additionalProperties: false,
    required: ['path', 'streams'],
    properties: {
      path: { type: 'string', minLength: 1, description: 'Folder the department drops its files into (read-only access is enough).' },
      streams: {
        type: 'array',
        minItems: 1,
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['name', 'pattern'],
          properties: {
            name: { type: 'string', minLength: 1, pattern: '^[A-Za-z0-9_.-]+$' },
            pattern: { type: 'string', minLength: 1, description: 'Glob of the stream\'s files (`调解*.csv`, `corrections/**/*.{csv,xlsx}`): without a `/` it matches the file name at any depth; case-insensitive.' },
            format: { type: 'string', enum: ['auto', 'csv', 'xlsx'], default: 'auto', description: 'auto: by extension (.csv/.txt/.tsv = csv, .xlsx = xlsx).' },
            encoding: { type: 'string', enum: ['auto', 'utf-8', 'gbk', 'gb18030'], default: 'auto', description: 'CSV text encoding; auto: BOM, else UTF-8 if the bytes are UTF-8, else GB18030 (a superset of GBK).' },
            delimiter: { type: 'string', minLength: 1, maxLength: 1, default: ',' },
            headerRow: { type: 'integer', minimum: 1, default: 1, description: 'Line (CSV) or row (XLSX) holding the column names; rows above it are skipped.' },
            sheet: { type: ['string', 'integer'], description: 'XLSX sheet name or 1-based index; default the first sheet.' },
            columns: { type: 'object', additionalProperties: { type: 'string', minLength: 1 }, default: {}, description: 'Header text → field name (`{"姓名": "name"}`); unmapped headers keep their text.' },
            primaryKey: { type: 'array', items: { type: 'string', minLength: 1 }, default: [], description: 'Field names (after `columns`) identifying a row.' },
          },
        },
      },
      minFileAgeSeconds: { type: 'integer', minimum: 0, default: 0, description: 'Skip files modified more recently than this (still being written).' },
      checkpointEveryRows: { type: 'integer', minimum: 1, default: 5000, description: 'Rows between state checkpoints inside one file (a checkpoint also follows every file).' },
    },
  },
};
