import type { SubgraphContext } from '../shared/context';
import type { ResolverMap } from '../shared/create-subgraph-server';
import { protectedFields } from '../shared/pii-guard';
import { iso } from '../shared/sql';
import type { PetitionLoaders, PetitionRow } from './loaders';

type Ctx = SubgraphContext<PetitionLoaders>;

function toPetition(r: PetitionRow) {
  return {
    id: r.id, petitionNo: r.petition_no, channel: r.channel, petitionerName: r.petitioner_name, petitionerIdNumber: r.petitioner_id_number,
    petitionerPhone: r.petitioner_phone, subject: r.subject, content: r.content, categoryCode: r.category_code, targetDepartment: r.target_department,
    status: r.status, satisfaction: r.satisfaction, receivedAt: iso(r.received_at), dueAt: iso(r.due_at), closedAt: iso(r.closed_at), address: r.address,
    steps: (Array.isArray(r.steps) ? r.steps : []).filter((s) => s && s.step).map((s) => ({ step: s.step!, at: s.at ?? null, org: s.org ?? null, note: s.note ?? null })),
    personId: r.person_id, petitioner: r.person_id ? { id: r.person_id } : null, place: r.place_id ? { id: r.place_id } : null,
    event: r.event_id ? { id: r.event_id } : null, recordKey: r._record_key, syncedAt: iso(r._synced_at),
  };
}

export const resolvers: ResolverMap = {
  Person: {
    __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
    petitions: async (p: { id: string }, _: unknown, ctx: Ctx) => (await ctx.loaders.byPerson.load(p.id)).map(toPetition),
  },
  Place: {
    __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
    petitions: async (p: { id: string }, _: unknown, ctx: Ctx) => (await ctx.loaders.byPlace.load(p.id)).map(toPetition),
  },
  Event: {
    __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
    petition: async (e: { id: string }, _: unknown, ctx: Ctx) => {
      const rows = await ctx.loaders.byEvent.load(e.id);
      return rows[0] ? toPetition(rows[0]) : null;
    },
  },
  Petition: protectedFields<ReturnType<typeof toPetition>>('Petition', ['petitionerIdNumber', 'petitionerPhone'], (p) => p.personId),
};
