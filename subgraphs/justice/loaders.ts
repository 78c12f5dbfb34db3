import type DataLoader from 'dataloader';
import type { LoaderContext } from '../shared/context';
import { recordsBy } from '../shared/department-records';

/** Justice loaders: one statement per field for all persons/places/events of a request. */
export interface MediationCaseRow {
  id: string; case_no: string; dispute_type: string | null; category_code: string | null; summary: string | null;
  parties: { name?: string; idNumber?: string; role?: string; phone?: string }[]; mediator: string | null; mediation_org: string | null;
  level: string | null; outcome: string | null; status: string | null; accepted_at: Date | null; closed_at: Date | null; address: string | null;
  place_id: string | null; event_id: string | null; _record_key: string; _synced_at: Date;
}
export interface CorrectionRow {
  id: string; id_number: string | null; name: string; sex: string | null; birth_date: string | null; correction_type: string | null;
  crime: string | null; start_date: string | null; end_date: string | null; status: string | null; supervising_office: string | null;
  address: string | null; person_id: string | null; place_id: string | null; _record_key: string; _synced_at: Date;
}

export interface JusticeLoaders {
  casesByPerson: DataLoader<string, MediationCaseRow[]>;
  casesByPlace: DataLoader<string, MediationCaseRow[]>;
  casesByEvent: DataLoader<string, MediationCaseRow[]>;
  correctionsByPerson: DataLoader<string, CorrectionRow[]>;
}

export function createJusticeLoaders(ctx: LoaderContext): JusticeLoaders {
  const department = 'JUSTICE' as const;
  const order = 't.accepted_at DESC NULLS LAST, t.id';
  return {
    casesByPerson: recordsBy(ctx, { department, from: 'justice.mediation_cases t JOIN (SELECT DISTINCT case_id, person_id FROM justice.case_parties) k ON k.case_id = t.id',
      key: 'k.person_id', orderBy: order }),
    casesByPlace: recordsBy(ctx, { department, from: 'justice.mediation_cases t', key: 't.place_id', orderBy: order }),
    casesByEvent: recordsBy(ctx, { department, from: 'justice.mediation_cases t', key: 't.event_id', orderBy: 't.id' }),
    // The latest correction first (Person.correction shows it).
    correctionsByPerson: recordsBy(ctx, { department, from: 'justice.corrections t', key: 't.person_id', orderBy: 't.start_date DESC NULLS LAST, t.id' }),
  };
}
