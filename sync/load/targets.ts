import type { Queryable } from '../../platform/db';
import { HubError } from '../../platform/errors';
import { DEPARTMENTS, type Department } from '../../domain/departments';

/**
 * What the loader knows about a department table it writes: its column types (read from the database, so a
 * mapping is checked against the real table) and, for event-like tables, where its resolved parties go.
 */
export interface TargetTable {
  /** `schema.table` */
  name: string;
  schema: string;
  table: string;
  department: Department;
  columnTypes: Map<string, string>;
  /** Columns that are NOT NULL and have no default: a mapping must fill them. */
  requiredColumns: Set<string>;
  /** Every NOT NULL column: a mapped value there may not be empty (unless the field has a default). */
  notNullColumns: Set<string>;
  has(column: string): boolean;
  /** The table of persons a record involves (police.incident_parties …), keyed by `fk` → the record's id. */
  parties?: { table: string; fk: string };
}

const PARTIES: Record<string, { table: string; fk: string }> = {
  'police.incidents': { table: 'police.incident_parties', fk: 'incident_id' },
  'justice.mediation_cases': { table: 'justice.case_parties', fk: 'case_id' },
};

const cache = new Map<string, TargetTable>();

export function quoteTable(name: string): string {
  return name.split('.').map((p) => `"${p.replace(/"/g, '""')}"`).join('.');
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** The department table `name` (`police.incidents`), checked to belong to `department`. */
export async function loadTarget(db: Queryable, name: string, department: Department): Promise<TargetTable> {
  const cacheKey = `${department}:${name}`;
  const hit = cache.get(cacheKey);
  if (hit) return hit;
  const [schema, table] = name.split('.');
  if (!schema || !table || schema !== DEPARTMENTS[department].schema) {
    throw new HubError('TL_ERR_CONNECTOR_CONFIG', `A ${department} connector cannot write ${name}: its tables are in schema ${DEPARTMENTS[department].schema}`);
  }
  const { rows } = await db.query<{ column_name: string; data_type: string; is_nullable: string; column_default: string | null }>(
    `SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns
      WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`, [schema, table]);
  const columnTypes = new Map(rows.map((r) => [r.column_name, r.data_type]));
  if (!columnTypes.has('_record_key') || !columnTypes.has('_row_hash')) {
    throw new HubError('TL_ERR_CONNECTOR_CONFIG', `${name} is not a department record table (it has no _record_key/_row_hash sync columns)`);
  }
  const target: TargetTable = {
    name, schema, table, department, columnTypes,
    requiredColumns: new Set(rows.filter((r) => r.is_nullable === 'NO' && r.column_default === null).map((r) => r.column_name)),
    notNullColumns: new Set(rows.filter((r) => r.is_nullable === 'NO').map((r) => r.column_name)),
    has: (c) => columnTypes.has(c),
    ...(PARTIES[name] ? { parties: PARTIES[name] } : {}),
  };
  cache.set(cacheKey, target);
  return target;
}
