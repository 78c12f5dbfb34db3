import type { Department } from '../../domain/departments';
import { dwellingKey, type Dwelling, type Geography } from '../geography';
import type { NoiseKind, NoiseRates } from '../noise';
import type { Person } from '../population';

/** Everything a department source needs while the generator runs. */
export interface GenContext {
  geo: Geography;
  seed: number;
  rates: NoiseRates;
  /** End of the generated history (epoch ms, CST midnight of the as-of date). */
  asOfMs: number;
  /** Start of the generated history: three years before as-of. */
  startMs: number;
  truth: TruthSink;
  /** Ground truth of event records' scenes (events.jsonl). */
  events: EventSink;
}

/** One event record (incident, mediation case, petition) and where it truly happened. */
export interface EventTruth {
  department: Department;
  stream: string;
  key: string;
  occurredAt: string;
  /** The scene as the record writes it, the grid it lies in and the dwelling's key. */
  address: string;
  gridCode: string;
  placeKey: string;
  chain?: string;
}

export interface EventSink {
  add(event: EventTruth): void;
}

/** One department record that belongs to a real person: what `truth.jsonl` lists per person. */
export interface TruthRecord {
  department: Department;
  /** The table, file family or API resource: `t_hjxx`, `jz_member`, `mediation_cases`, `petitions` ... */
  stream: string;
  /** The record's primary key in the source system. */
  key: string;
  /** For records naming several persons: which one (the party row's key or the role's column group). */
  mention?: string;
  role?: string;
  /** The address as this record writes it, and the grid it truly lies in. */
  address?: string;
  gridCode?: string;
  /** The dwelling the address denotes (same key = same place, however written). */
  placeKey?: string;
  /** The standard-address register's id of the dwelling's building (register/buildings.csv). */
  buildingId?: string;
  /** Cross-department event chain this record is part of (a dispute → mediation → petition). */
  chain?: string;
  /** The key of the record this one duplicates inside the same department. */
  duplicateOf?: string;
  noise: NoiseKind[];
}

export interface TruthSink {
  add(person: Person, record: TruthRecord): void;
}

/** Address fields every source record with a dwelling carries into the truth. */
export function truthAddress(d: Dwelling, written: string, _variant: boolean): Pick<TruthRecord, 'address' | 'gridCode' | 'placeKey' | 'buildingId'> {
  return { address: written, gridCode: d.grid.code, placeKey: dwellingKey(d), buildingId: d.house.id };
}

/** The police station (派出所) responsible for a street or town. */
export function policeStation(geo: Geography, d: Dwelling): string {
  const street = d.grid.community.street;
  const stem = street.name.replace(/(街道|街道办事处|镇|乡)$/, '');
  return `${geo.cityName}公安局${street.district.name}分局${stem}派出所`;
}

/** A Poisson-distributed count (Knuth; fine for the small means used here). */
export function poisson(next: () => number, mean: number): number {
  if (mean <= 0) return 0;
  if (mean > 30) return Math.max(0, Math.round(mean + Math.sqrt(mean) * (next() + next() + next() - 1.5) * 2));
  const l = Math.exp(-mean);
  let k = 0;
  let p = 1;
  do { k++; p *= next(); } while (p > l);
  return k - 1;
}
