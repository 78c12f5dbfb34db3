import type DataLoader from 'dataloader';
import type { LoaderContext } from '../shared/context';
import { recordsBy } from '../shared/department-records';

/** Petition loaders: one statement per field for all persons/places/events of a request. */
export interface PetitionRow {
  id: string; petition_no: string; channel: string | null; petitioner_name: string | null; petitioner_id_number: string | null;
  petitioner_phone: string | null; subject: string | null; content: string | null; category_code: string | null; target_department: string | null;
  status: string | null; satisfaction: string | null; received_at: Date | null; due_at: Date | null; closed_at: Date | null; address: string | null;
  steps: { step?: string; at?: string; org?: string; note?: string | null }[]; person_id: string | null; place_id: string | null; event_id: string | null;
  _record_key: string; _synced_at: Date;
}

export interface PetitionLoaders {
  byPerson: DataLoader<string, PetitionRow[]>;
  byPlace: DataLoader<string, PetitionRow[]>;
  byEvent: DataLoader<string, PetitionRow[]>;
}

export function createPetitionLoaders(ctx: LoaderContext): PetitionLoaders {
  const department = 'PETITION' as const;
  const order = 't.received_at DESC NULLS LAST, t.id';
  return {
    byPerson: recordsBy(ctx, { department, from: 'petition.petitions t', key: 't.person_id', orderBy: order }),
    byPlace: recordsBy(ctx, { department, from: 'petition.petitions t', key: 't.place_id', orderBy: order }),
    byEvent: recordsBy(ctx, { department, from: 'petition.petitions t', key: 't.event_id', orderBy: 't.id' }),
  };
}
