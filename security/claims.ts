import { DEPARTMENT_CODES, isDepartment } from '../domain/departments';
import { isRole, ROLES, type Identity, type Role } from './identity';

/**
 * Token claims → Identity, and the rules every credential (JWT, API key, development token) must satisfy:
 *   role         one of CONTRACT.md's roles (`role`, or the first known value of a `roles` array)
 *   department   required for department-admin; when present, one of the departments
 *   grids        required (non-empty) for grid-worker; hierarchical codes, 4 to 15 digits
 *   districts    required (non-empty) for district-officer; 6-digit GB/T 2260 district codes
 *   scope/scopes OAuth2 `scope` (space-separated string) or `scopes` / `scp` (array or string)
 */
export const GRID_CODE = /^\d{4,15}$/;
export const DISTRICT_CODE = /^\d{6}$/;

export interface ScopeClaims {
  role: Role;
  department?: string | undefined;
  grids: string[];
  districts: string[];
}

/** The first problem with a credential's scope claims, or none. */
export function validateScopeClaims(c: ScopeClaims): { problem?: string } {
  if (c.department !== undefined && !isDepartment(c.department)) {
    return { problem: `department must be one of ${DEPARTMENT_CODES.join(', ')} (got ${JSON.stringify(c.department)})` };
  }
  if (c.role === 'department-admin' && !c.department) return { problem: 'a department-admin needs a department' };
  const badGrid = c.grids.find((g) => typeof g !== 'string' || !GRID_CODE.test(g));
  if (badGrid !== undefined) return { problem: `grid codes are 4 to 15 digits (got ${JSON.stringify(badGrid)})` };
  const badDistrict = c.districts.find((d) => typeof d !== 'string' || !DISTRICT_CODE.test(d));
  if (badDistrict !== undefined) return { problem: `district codes are 6 digits (got ${JSON.stringify(badDistrict)})` };
  if (c.role === 'grid-worker' && c.grids.length === 0) return { problem: 'a grid-worker needs at least one grid' };
  if (c.role === 'district-officer' && c.districts.length === 0) return { problem: 'a district-officer needs at least one district' };
  return {};
}

function stringList(value: unknown, name: string): string[] {
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') return value.split(/[\s,]+/).filter(Boolean);
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
  throw new Error(`claim ${name} must be a string or an array of strings`);
}

/** Identity from verified JWT claims; throws an Error whose message says which claim is wrong. */
export function identityFromClaims(claims: Record<string, unknown>): Identity {
  const sub = claims.sub;
  if (typeof sub !== 'string' || sub === '') throw new Error('claim sub is missing');
  let role: unknown = claims.role;
  if (role === undefined && Array.isArray(claims.roles)) role = (claims.roles as unknown[]).find(isRole);
  if (!isRole(role)) throw new Error(`claim role must be one of ${ROLES.join(', ')} (got ${JSON.stringify(role)})`);
  const department = claims.department === undefined || claims.department === null ? undefined : claims.department;
  if (department !== undefined && typeof department !== 'string') throw new Error('claim department must be a string');
  const grids = [...new Set(stringList(claims.grids, 'grids'))];
  const districts = [...new Set(stringList(claims.districts, 'districts'))];
  const scopes = [...new Set([...stringList(claims.scope, 'scope'), ...stringList(claims.scopes, 'scopes'), ...stringList(claims.scp, 'scp')])];
  const { problem } = validateScopeClaims({ role, department, grids, districts });
  if (problem) throw new Error(problem);
  return { sub, role, ...(department && isDepartment(department) ? { department } : {}), grids, districts, scopes };
}
