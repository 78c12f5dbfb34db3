import type DataLoader from 'dataloader';
import type { LoaderContext } from '../shared/context';
import { recordsBy } from '../shared/department-records';

/** Civil-affairs loaders: one statement per field for all persons/places of a request. */
export interface HouseholdRow {
  id: string; household_no: string; head_id_number: string | null; head_name: string | null; address: string | null; member_count: number | null;
  phone: string | null; person_id: string | null; place_id: string | null; _record_key: string; _synced_at: Date;
}
export interface SubsidyRow {
  id: string; subsidy_no: string; kind: string; id_number: string | null; name: string | null; household_no: string | null; amount: string | null;
  period_start: string | null; period_end: string | null; status: string | null; person_id: string | null; _record_key: string; _synced_at: Date;
}
export interface CareServiceRow {
  id: string; service_no: string; kind: string | null; id_number: string | null; name: string | null; provider: string | null; service_date: string | null;
  status: string | null; note: string | null; person_id: string | null; _record_key: string; _synced_at: Date;
}

export interface CivilLoaders {
  householdsByPerson: DataLoader<string, HouseholdRow[]>;
  householdsByPlace: DataLoader<string, HouseholdRow[]>;
  subsidiesByPerson: DataLoader<string, SubsidyRow[]>;
  careByPerson: DataLoader<string, CareServiceRow[]>;
}

export function createCivilLoaders(ctx: LoaderContext): CivilLoaders {
  const department = 'CIVIL_AFFAIRS' as const;
  return {
    householdsByPerson: recordsBy(ctx, { department, from: 'civil.households t', key: 't.person_id', orderBy: 't._source_updated_at DESC NULLS LAST, t.id' }),
    householdsByPlace: recordsBy(ctx, { department, from: 'civil.households t', key: 't.place_id', orderBy: 't.household_no, t.id' }),
    subsidiesByPerson: recordsBy(ctx, { department, from: 'civil.subsidies t', key: 't.person_id', orderBy: 't.period_start DESC NULLS LAST, t.id' }),
    careByPerson: recordsBy(ctx, { department, from: 'civil.care_services t', key: 't.person_id', orderBy: 't.service_date DESC NULLS LAST, t.id' }),
  };
}
