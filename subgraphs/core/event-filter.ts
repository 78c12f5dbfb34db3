import { HubError } from '../../platform/errors';
import type { Identity } from '../../security/identity';
import { assertUuid, parseTime } from '../shared/sql';
import { eventVisible } from './visibility';

/** The public EventFilter (CONTRACT.md) and its translation into SQL over `core.events` (alias given). */
export interface EventFilter {
  gridCode?: string | null;
  kinds?: string[] | null;
  categoryCodes?: string[] | null;
  statuses?: string[] | null;
  departments?: string[] | null;
  from?: string | null;
  to?: string | null;
  personId?: string | null;
  placeId?: string | null;
}

const CODE = /^\d{1,15}$/;

function codes(values: string[], argument: string): string[] {
  for (const v of values) {
    if (!CODE.test(v)) throw new HubError('TL_ERR_BAD_USER_INPUT', `${argument}: "${v}" is not a code (digits only)`, { argument, value: v });
  }
  return values;
}

/** Conditions (ANDed) for the caller's visibility plus the filter. Appends to `params`. */
export function eventConditions(identity: Identity, filter: EventFilter | null | undefined, alias: string, params: unknown[]): string[] {
  const where = [eventVisible(identity, alias, params)];
  const f = filter ?? {};
  const add = (sql: (n: string) => string, value: unknown) => {
    params.push(value);
    where.push(sql(`$${params.length}`));
  };
  if (f.gridCode) add((n) => `${alias}.grid_code LIKE ${n}`, `${codes([f.gridCode], 'filter.gridCode')[0]}%`);
  if (f.kinds?.length) add((n) => `${alias}.kind = ANY(${n}::text[])`, f.kinds);
  if (f.categoryCodes?.length) add((n) => `${alias}.category_code LIKE ANY(${n}::text[])`, codes(f.categoryCodes, 'filter.categoryCodes').map((c) => `${c}%`));
  if (f.statuses?.length) add((n) => `${alias}.status = ANY(${n}::text[])`, f.statuses.map((s) => s.toLowerCase()));
  if (f.departments?.length) add((n) => `${alias}.department = ANY(${n}::text[])`, f.departments);
  if (f.from) add((n) => `${alias}.occurred_at >= ${n}::timestamptz`, parseTime(f.from, 'filter.from'));
  if (f.to) add((n) => `${alias}.occurred_at < ${n}::timestamptz`, parseTime(f.to, 'filter.to'));
  if (f.personId) {
    add((n) => `EXISTS (SELECT 1 FROM core.event_participants fp WHERE fp.event_id = ${alias}.id AND fp.person_id = ${n}::uuid)`,
      assertUuid(f.personId, 'filter.personId'));
  }
  if (f.placeId) add((n) => `${alias}.place_id = ${n}::uuid`, assertUuid(f.placeId, 'filter.placeId'));
  return where;
}

export const STATS_DIMENSIONS = {
  GRID: "COALESCE(e.grid_code, '')",
  CATEGORY: "COALESCE(e.category_code, '')",
  STATUS: 'upper(e.status)',
  DEPARTMENT: 'e.department',
  LEVEL: "COALESCE(upper(e.level), '')",
  DAY: "to_char(e.occurred_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD')",
  MONTH: "to_char(e.occurred_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM')",
} as const;
export type StatsDimension = keyof typeof STATS_DIMENSIONS;

/** Statuses that count as closed (办结) for the closure rate. */
export const CLOSED_STATUSES = ['closed', 'evaluated'];
