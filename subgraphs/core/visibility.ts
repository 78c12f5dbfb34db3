import type { Identity } from '../../security/identity';
import { departmentCondition, personDepartmentCondition, scopeCodes, scopeCondition } from '../../security/scope';

/**
 * What a caller may see of the core graph, as SQL conditions (security/scope.ts), so that lists, counts and
 * statistics all agree with it:
 *  - persons: inside the caller's grids, and (department-scoped callers) with a record of their department;
 *    persons merged into another are not served (the merge target is);
 *  - events: inside the caller's grids and departments;
 *  - places: inside the caller's grids;
 *  - grids: the nodes inside the caller's grids and the nodes above them (so a grid worker can navigate up
 *    to their community and street, but not sideways).
 */
export function personVisible(identity: Identity, alias: string, params: unknown[]): string {
  return `${alias}.merged_into IS NULL AND ${scopeCondition(identity, `${alias}.grid_code`, params)} AND ${personDepartmentCondition(identity, `${alias}.id`, params)}`;
}

export function eventVisible(identity: Identity, alias: string, params: unknown[]): string {
  return `${scopeCondition(identity, `${alias}.grid_code`, params)} AND ${departmentCondition(identity, `${alias}.department`, params)}`;
}

export function placeVisible(identity: Identity, alias: string, params: unknown[]): string {
  return scopeCondition(identity, `${alias}.grid_code`, params);
}

/** Prefix lengths of the grid hierarchy: city, district, street, community, grid. */
const LEVEL_LENGTHS = [4, 6, 9, 12, 15];

export function gridVisible(identity: Identity, alias: string, params: unknown[]): string {
  const codes = scopeCodes(identity);
  if (codes === null) return 'TRUE';
  if (!codes.length) return 'FALSE';
  const ancestors = new Set<string>();
  for (const code of codes) for (const n of LEVEL_LENGTHS) if (n < code.length) ancestors.add(code.slice(0, n));
  const inside = scopeCondition(identity, `${alias}.code`, params);
  params.push([...ancestors]);
  return `(${inside} OR ${alias}.code = ANY($${params.length}::text[]))`;
}
