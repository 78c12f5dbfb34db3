import { isDepartment, type Department } from '../domain/departments';
import { HubError } from '../platform/errors';
import type { Identity } from './identity';
import { policyOf, roleAllows, type Action } from './roles';

/**
 * Geographic and department scope, applied in SQL so that lists, counts and statistics all agree with what a
 * caller may see. Grid codes are hierarchical numeric codes (city 4 digits, district 6, street 9, community
 * 12, grid 15), so "X and everything below it" is the prefix match `grid_code LIKE 'X%'` with no join.
 *
 * Usage in a resolver:
 *   const params: unknown[] = [];
 *   const where = [scopeCondition(identity, 'e.grid_code', params), departmentCondition(identity, 'e.department', params)];
 *   pool.query(`SELECT ... FROM core.events e WHERE ${where.join(' AND ')}`, params);
 * A row whose grid_code is NULL (not yet mapped to a grid) is visible only to unrestricted callers.
 */

/** Codes are digits only (4 to 15): anything else in a claim is ignored, so it can never widen a LIKE. */
const CODE = /^\d{4,15}$/;

function codesOf(list: readonly string[] | undefined): string[] {
  return [...new Set((list ?? []).filter((c) => typeof c === 'string' && CODE.test(c)))];
}

/** The codes a caller is confined to: null = the whole city; [] = nothing at all. */
export function scopeCodes(identity: Identity): string[] | null {
  switch (policyOf(identity.role).geography) {
    case 'city':
      return null;
    case 'districts':
      return codesOf(identity.districts);
    case 'grids':
      return codesOf(identity.grids);
    case 'grants': {
      // An integrator's credential may narrow it to grids and/or districts; without either it is city-wide.
      const codes = [...codesOf(identity.grids), ...codesOf(identity.districts)];
      return codes.length ? [...new Set(codes)] : null;
    }
  }
}

/** LIKE patterns for the caller's grid scope (`['510104%']`), null when unrestricted, [] when nothing. */
export function scopePatterns(identity: Identity): string[] | null {
  const codes = scopeCodes(identity);
  return codes === null ? null : codes.map((c) => `${c}%`);
}

/**
 * SQL condition confining `column` (a grid code column) to the caller's geography. Appends its parameter to
 * `params` and returns `(col LIKE ANY($n::text[]))`, or `TRUE` (unrestricted) or `FALSE` (no grids at all).
 */
export function scopeCondition(identity: Identity, column: string, params: unknown[]): string {
  const patterns = scopePatterns(identity);
  if (patterns === null) return 'TRUE';
  if (patterns.length === 0) return 'FALSE';
  params.push(patterns);
  return `(${column} LIKE ANY($${params.length}::text[]))`;
}

/** Whether a grid (or any code of the hierarchy) lies inside the caller's geography. */
export function canSeeGrid(identity: Identity, gridCode: string | null | undefined): boolean {
  const codes = scopeCodes(identity);
  if (codes === null) return true;
  if (!gridCode) return false;
  return codes.some((c) => gridCode.startsWith(c));
}

/**
 * Whether the caller's geography covers the whole of `code` (e.g. may ask for statistics of a street):
 * true when `code` lies inside one of the caller's codes. A district officer asking about the whole city gets
 * false; resolvers then answer for the intersection (scopeCondition) rather than refuse.
 */
export const coversGrid = canSeeGrid;

/** Departments whose data the caller sees: null = all. */
export function departmentScope(identity: Identity): Department[] | null {
  const policy = policyOf(identity.role);
  if (policy.departments === 'own') return isDepartment(identity.department) ? [identity.department] : [];
  // An integrator key narrowed to one department.
  if (identity.role === 'integrator' && isDepartment(identity.department)) return [identity.department];
  return null;
}

/** SQL condition confining `column` (a department code column) to the caller's departments. */
export function departmentCondition(identity: Identity, column: string, params: unknown[]): string {
  const departments = departmentScope(identity);
  if (departments === null) return 'TRUE';
  if (departments.length === 0) return 'FALSE';
  params.push(departments);
  return `(${column} = ANY($${params.length}::text[]))`;
}

/**
 * SQL condition for persons seen by a department-scoped caller: the person has at least one record of the
 * caller's departments (core.person_records). `TRUE` for callers who see every department.
 */
export function personDepartmentCondition(identity: Identity, personIdColumn: string, params: unknown[]): string {
  const departments = departmentScope(identity);
  if (departments === null) return 'TRUE';
  if (departments.length === 0) return 'FALSE';
  params.push(departments);
  return `EXISTS (SELECT 1 FROM core.person_records pr WHERE pr.person_id = ${personIdColumn} AND pr.department = ANY($${params.length}::text[]))`;
}

export function canSeeDepartment(identity: Identity, department: string | null | undefined): boolean {
  const departments = departmentScope(identity);
  if (departments === null) return true;
  return !!department && (departments as string[]).includes(department);
}

/** Whether the caller may perform an action at all (role table). */
export function can(identity: Identity, action: Action): boolean {
  return roleAllows(identity.role, action);
}

/** Throws TL_ERR_FORBIDDEN naming the action and the role when the role may not perform it. */
export function assertCan(identity: Identity, action: Action): void {
  if (!can(identity, action)) {
    throw new HubError('TL_ERR_FORBIDDEN', `Role ${identity.role} may not ${action}`, { action, role: identity.role });
  }
}

/** Whether the caller may administer (connectors, quarantine, webhooks) the given department. */
export function canManageDepartment(identity: Identity, department: string, action: Action = 'connectors:manage'): boolean {
  return can(identity, action) && canSeeDepartment(identity, department);
}

export function assertManageDepartment(identity: Identity, department: string, action: Action = 'connectors:manage'): void {
  if (!canManageDepartment(identity, department, action)) {
    throw new HubError('TL_ERR_FORBIDDEN', `Role ${identity.role}${identity.department ? ` of ${identity.department}` : ''} may not ${action} for department ${department}`,
      { action, role: identity.role, department });
  }
}
