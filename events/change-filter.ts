import { DEPARTMENT_CODES } from '../domain/departments';
import { HubError } from '../platform/errors';
import type { Identity } from '../security/identity';
import { departmentScope, scopeCodes } from '../security/scope';
import { CHANGE_OPS, ENTITY_TYPES, TYPE_PREFIX, type ChangeEvent, type ChangeOp } from './change-event';

/**
 * Which change events a subscriber (or a webhook) receives: its own filter intersected with its scope.
 * One compiled form serves both the live path (`matchesFilter`, in memory) and replay (`filterSql`, the same
 * rules in SQL); a test checks they agree.
 *
 * Grid codes are hierarchical prefixes (COMMON.md): a filter on `510104` matches every street, community and
 * grid of that district. A filter asking for grids wholly outside the caller's scope is an error, not a
 * silent empty stream.
 */
export interface ChangeFilterInput {
  /** CloudEvents types, full (`gov.tonglan.event.created`) or short (`event.created`). */
  types?: string[] | null;
  ops?: string[] | null;
  /** `Person`, `Place`, `Event`. */
  entityTypes?: string[] | null;
  departments?: string[] | null;
  /** One grid code (any level of the hierarchy): it and everything below it. */
  gridCode?: string | null;
  /** Several grid codes, as `gridCode`. */
  gridCodes?: string[] | null;
}

export interface CompiledFilter {
  types: string[] | null;
  ops: ChangeOp[] | null;
  entityTypes: string[] | null;
  departments: string[] | null;
  /** Grid-code prefixes an event's grid must start with; null = any grid (or none). */
  gridPrefixes: string[] | null;
}

const GRID_CODE = /^\d{4,15}$/;
const TYPE = /^gov\.tonglan\.(person|place|event)\.(created|updated|deleted)$/;

function bad(field: string, message: string, value: unknown): HubError {
  return new HubError('TL_ERR_BAD_USER_INPUT', `filter.${field}: ${message}`, { field: `filter.${field}`, value });
}

function list<T extends string>(field: string, values: string[] | null | undefined, check: (v: string) => T): T[] | null {
  if (values === null || values === undefined) return null;
  if (!Array.isArray(values)) throw bad(field, 'must be a list', values);
  return [...new Set(values.map(check))];
}

/** Intersection of two prefix sets (null = everything). */
function intersectPrefixes(a: string[] | null, b: string[] | null): string[] | null {
  if (a === null) return b;
  if (b === null) return a;
  const out = new Set<string>();
  for (const x of a) {
    for (const y of b) {
      if (x.startsWith(y)) out.add(x);
      else if (y.startsWith(x)) out.add(y);
    }
  }
  return [...out];
}

/** Validate a filter and narrow it to what `identity` may see. Throws TL_ERR_BAD_USER_INPUT / TL_ERR_FORBIDDEN. */
export function compileFilter(input: ChangeFilterInput | null | undefined, identity: Identity): CompiledFilter {
  const f = input ?? {};
  const types = list('types', f.types, (t) => {
    const full = String(t).startsWith(TYPE_PREFIX) ? String(t) : `${TYPE_PREFIX}${String(t)}`;
    if (!TYPE.test(full)) throw bad('types', `unknown event type "${t}" (expected e.g. gov.tonglan.event.created or event.created)`, t);
    return full;
  });
  const ops = list('ops', f.ops, (o) => {
    if (!(CHANGE_OPS as readonly string[]).includes(o)) throw bad('ops', `unknown op "${o}" (one of ${CHANGE_OPS.join(', ')})`, o);
    return o as ChangeOp;
  });
  const entityTypes = list('entityTypes', f.entityTypes, (t) => {
    if (!(ENTITY_TYPES as readonly string[]).includes(t)) throw bad('entityTypes', `unknown entity type "${t}" (one of ${ENTITY_TYPES.join(', ')})`, t);
    return t;
  });
  const requestedDepartments = list('departments', f.departments, (d) => {
    if (!(DEPARTMENT_CODES as string[]).includes(d)) throw bad('departments', `unknown department "${d}" (one of ${DEPARTMENT_CODES.join(', ')})`, d);
    return d;
  });
  const codes = [...(f.gridCode ? [f.gridCode] : []), ...(f.gridCodes ?? [])];
  for (const code of codes) {
    if (typeof code !== 'string' || !GRID_CODE.test(code)) throw bad(f.gridCode === code ? 'gridCode' : 'gridCodes', 'a grid code is 4 to 15 digits', code);
  }
  const requestedGrids = codes.length ? [...new Set(codes)] : null;

  const scope = scopeCodes(identity);
  const gridPrefixes = intersectPrefixes(requestedGrids, scope);
  if (gridPrefixes !== null && gridPrefixes.length === 0) {
    throw new HubError('TL_ERR_FORBIDDEN', requestedGrids
      ? `filter.gridCode: ${requestedGrids.join(', ')} lies outside the grids this identity may see`
      : 'This identity may see no grid at all', { requested: requestedGrids });
  }
  const allowedDepartments = departmentScope(identity) as string[] | null;
  const departments = allowedDepartments === null
    ? requestedDepartments
    : (requestedDepartments ?? allowedDepartments).filter((d) => allowedDepartments.includes(d));
  if (departments !== null && departments.length === 0) {
    throw new HubError('TL_ERR_FORBIDDEN', `filter.departments: ${requestedDepartments?.join(', ') ?? 'any'} lies outside the departments this identity may see`,
      { requested: requestedDepartments });
  }
  return { types, ops, entityTypes, departments, gridPrefixes };
}

export function matchesFilter(filter: CompiledFilter, event: ChangeEvent): boolean {
  if (filter.types && !filter.types.includes(event.type)) return false;
  if (filter.ops && !filter.ops.includes(event.op)) return false;
  if (filter.entityTypes && !filter.entityTypes.includes(event.entityType)) return false;
  if (filter.departments && !(event.department && filter.departments.includes(event.department))) return false;
  if (filter.gridPrefixes) {
    const grid = event.gridCode;
    if (!grid || !filter.gridPrefixes.some((p) => grid.startsWith(p))) return false;
  }
  return true;
}

/**
 * The same rules as `matchesFilter` for hub.change_events (alias `ce`), appending parameters to `params`.
 * Grid codes are digits only (validated above), so a prefix is safe inside LIKE.
 */
export function filterSql(filter: CompiledFilter, params: unknown[], alias = 'ce'): string {
  const where: string[] = [];
  const add = (sql: (n: number) => string, value: unknown) => {
    params.push(value);
    where.push(sql(params.length));
  };
  if (filter.types) add((n) => `${alias}.type = ANY($${n}::text[])`, filter.types);
  if (filter.ops) add((n) => `${alias}.op = ANY($${n}::text[])`, filter.ops);
  if (filter.entityTypes) add((n) => `${alias}.entity_type = ANY($${n}::text[])`, filter.entityTypes);
  if (filter.departments) add((n) => `${alias}.department = ANY($${n}::text[])`, filter.departments);
  if (filter.gridPrefixes) add((n) => `${alias}.grid_code LIKE ANY($${n}::text[])`, filter.gridPrefixes.map((p) => `${p}%`));
  return where.length ? where.join(' AND ') : 'TRUE';
}
