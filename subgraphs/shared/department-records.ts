import DataLoader from 'dataloader';
import type { Department } from '../../domain/departments';
import { named } from '../../platform/named-statement';
import { canSeeDepartment, scopeCondition } from '../../security/scope';
import type { LoaderContext } from './context';
import { groupRows, isUuid } from './sql';

/**
 * A DataLoader over one department record table (or a join through a party table), keyed by a linking
 * column (`person_id`, `place_id`, `event_id`): one statement for all keys of a request. It serves only
 * live rows (`_deleted_at IS NULL`), inside the caller's grid scope (the row's `grid_code`), and nothing at
 * all to a caller who may not see the department (security/scope.ts).
 *
 *   recordsBy(ctx, { department: 'POLICE', from: 'police.incidents t JOIN police.incident_parties k ON k.incident_id = t.id',
 *                    key: 'k.person_id', orderBy: 't.reported_at DESC' })
 */
export interface RecordSpec {
  department: Department;
  /** FROM clause; the record table must be aliased `t`. */
  from: string;
  /** The key column (uuid). */
  key: string;
  /** Select list (default `t.*`). */
  columns?: string;
  /** Order within one key. */
  orderBy: string;
}

export function recordsBy<R extends object>(ctx: LoaderContext, spec: RecordSpec): DataLoader<string, R[]> {
  return new DataLoader<string, R[]>(async (keys) => {
    const ids = keys.filter(isUuid);
    if (!ids.length || !canSeeDepartment(ctx.identity, spec.department)) return keys.map(() => []);
    const params: unknown[] = [ids];
    // A named statement: one text per loader and kind of caller (platform/named-statement.ts).
    const rows = await ctx.pool.query(named(`SELECT ${spec.key}::text AS _key, ${spec.columns ?? 't.*'} FROM ${spec.from}
      WHERE ${spec.key} = ANY($1::uuid[]) AND t._deleted_at IS NULL AND ${scopeCondition(ctx.identity, 't.grid_code', params)}
      ORDER BY ${spec.key}, ${spec.orderBy}`, params));
    return groupRows(keys, rows.rows as R[]);
  });
}
