export * from './types';
export { compileStream, rowHash, MANAGED_COLUMNS, type CompiledStream, type ColumnTypes } from './compile';
export { validateMapping, MAPPING_SCHEMA, LOOP_STATUSES, EVENT_LEVELS } from './mapping-schema';
export { BUILTIN_CODE_TABLES, lookupCode, type CodeTable } from './code-tables';
export { parseDateTime, DATE_FORMATS, type DateFormat } from './dates';
export { normaliseIdNumber } from './id-number';
export { toHalfWidth, trimAll } from './text';
export { compileEventProjection, type EventDraft, type EventProjector } from './event-projection';
