import type DataLoader from 'dataloader';
import type { LoaderContext } from '../shared/context';
import { recordsBy } from '../shared/department-records';

/** Police loaders: one statement per field for all persons/places/events of a request. */
export interface HouseholdRegistrationRow {
  id: string; household_no: string | null; id_number: string | null; name: string; sex: string | null; birth_date: string | null;
  ethnicity: string | null; relation_to_head: string | null; address: string | null; registered_at: string | null; status: string | null;
  person_id: string | null; place_id: string | null; _record_key: string; _synced_at: Date;
}
export interface IncidentRow {
  id: string; incident_no: string; source_category: string | null; category_code: string | null; summary: string | null; reported_at: Date | null;
  address: string | null; status: string | null; handling_unit: string | null; reporter_name: string | null; reporter_phone: string | null;
  parties: { name?: string; idNumber?: string; role?: string; phone?: string }[]; place_id: string | null; event_id: string | null;
  _record_key: string; _synced_at: Date;
}

export interface PoliceLoaders {
  householdsByPerson: DataLoader<string, HouseholdRegistrationRow[]>;
  householdsByPlace: DataLoader<string, HouseholdRegistrationRow[]>;
  incidentsByPerson: DataLoader<string, IncidentRow[]>;
  incidentsByPlace: DataLoader<string, IncidentRow[]>;
  incidentsByEvent: DataLoader<string, IncidentRow[]>;
}

const INCIDENTS = 'police.incidents t';

export function createPoliceLoaders(ctx: LoaderContext): PoliceLoaders {
  const department = 'POLICE' as const;
  return {
    householdsByPerson: recordsBy(ctx, { department, from: 'police.household_registrations t', key: 't.person_id', orderBy: 't._source_updated_at DESC NULLS LAST, t.id' }),
    householdsByPlace: recordsBy(ctx, { department, from: 'police.household_registrations t', key: 't.place_id', orderBy: 't.household_no, t.name, t.id' }),
    // A person may be a party twice (two roles): one row per incident.
    incidentsByPerson: recordsBy(ctx, { department, from: `${INCIDENTS} JOIN (SELECT DISTINCT incident_id, person_id FROM police.incident_parties) k ON k.incident_id = t.id`,
      key: 'k.person_id', orderBy: 't.reported_at DESC NULLS LAST, t.id' }),
    incidentsByPlace: recordsBy(ctx, { department, from: INCIDENTS, key: 't.place_id', orderBy: 't.reported_at DESC NULLS LAST, t.id' }),
    incidentsByEvent: recordsBy(ctx, { department, from: INCIDENTS, key: 't.event_id', orderBy: 't.id' }),
  };
}
