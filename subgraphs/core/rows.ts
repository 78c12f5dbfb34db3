import { iso } from '../shared/sql';

/** Rows of the core tables and their GraphQL shapes. Sensitive fields pass through the request's PII guard. */
export interface PersonRow {
  id: string; id_number: string | null; name: string; sex: string | null; birth_date: string | null; phone: string | null;
  residence_place_id: string | null; grid_code: string | null; flags: string[];
}
export interface PlaceRow {
  id: string; address: string; district: string | null; street: string | null; community: string | null; road: string | null;
  number: string | null; building: string | null; unit: string | null; room: string | null; grid_code: string | null;
  lon: number | null; lat: number | null;
}
export interface EventRow {
  id: string; kind: string; category_code: string | null; title: string; occurred_at: Date; status: string; level: string | null;
  severity: string | null; place_id: string | null; grid_code: string | null; department: string; closed_at: Date | null;
  /** Microsecond-exact occurred_at (keyset cursor). */
  _ts: string;
}
export interface GridRow {
  code: string; name: string; level: string; parent_code: string | null; path: string[]; households: number | null; worker_name: string | null;
}
export interface CategoryRow { code: string; name: string; parent_code: string | null; department: string | null }

export const PERSON_COLUMNS = 'p.id, p.id_number, p.name, p.sex, p.birth_date, p.phone, p.residence_place_id, p.grid_code, p.flags';
export const PLACE_COLUMNS = 'pl.id, pl.address, pl.district, pl.street, pl.community, pl.road, pl.number, pl.building, pl.unit, pl.room, pl.grid_code, pl.lon, pl.lat';
export const EVENT_COLUMNS = `e.id, e.kind, e.category_code, e.title, e.occurred_at, e.status, e.level, e.severity, e.place_id, e.grid_code, e.department, e.closed_at,
  to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS _ts`;
export const GRID_COLUMNS = 'g.code, g.name, g.level, g.parent_code, g.path, g.households, g.worker_name';

/** Raw values; the sensitive ones (idNumber, phone, flags) are protected by field resolvers (pii-guard.ts). */
export function toPerson(row: PersonRow) {
  return {
    id: row.id,
    name: row.name,
    idNumber: row.id_number,
    sex: row.sex,
    birthDate: row.birth_date,
    phone: row.phone,
    flags: row.flags,
    residencePlaceId: row.residence_place_id,
    gridCode: row.grid_code,
  };
}
export type PersonNode = ReturnType<typeof toPerson>;

export function toPlace(row: PlaceRow) {
  return {
    id: row.id, address: row.address, district: row.district, street: row.street, community: row.community, road: row.road,
    number: row.number, building: row.building, unit: row.unit, room: row.room, lon: row.lon, lat: row.lat, gridCode: row.grid_code,
  };
}
export type PlaceNode = ReturnType<typeof toPlace>;

export function toEvent(row: EventRow) {
  return {
    id: row.id, kind: row.kind, categoryCode: row.category_code, title: row.title, occurredAt: iso(row.occurred_at),
    status: row.status.toUpperCase(), level: row.level ? row.level.toUpperCase() : null, severity: row.severity,
    placeId: row.place_id, gridCode: row.grid_code, department: row.department, closedAt: iso(row.closed_at),
  };
}
export type EventNode = ReturnType<typeof toEvent>;

export function toGrid(row: GridRow) {
  return {
    code: row.code, name: row.name, level: row.level.toUpperCase(), parentCode: row.parent_code, path: row.path,
    households: row.households, workerName: row.worker_name,
  };
}
export type GridNode = ReturnType<typeof toGrid>;

export function toCategory(row: CategoryRow) {
  return { code: row.code, name: row.name, parentCode: row.parent_code, department: row.department };
}
export type CategoryNode = ReturnType<typeof toCategory>;
