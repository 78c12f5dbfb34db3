import type { SubgraphContext } from '../shared/context';
import type { ResolverMap } from '../shared/create-subgraph-server';
import { protectedFields } from '../shared/pii-guard';
import { iso } from '../shared/sql';
import type { CorrectionRow, JusticeLoaders, MediationCaseRow } from './loaders';

type Ctx = SubgraphContext<JusticeLoaders>;

function toCase(r: MediationCaseRow) {
  return {
    id: r.id, caseNo: r.case_no, disputeType: r.dispute_type, categoryCode: r.category_code, summary: r.summary,
    parties: (Array.isArray(r.parties) ? r.parties : []).map((p) => ({ name: p.name ?? null, role: p.role ?? null, idNumber: p.idNumber ?? null, phone: p.phone ?? null })),
    mediator: r.mediator, mediationOrg: r.mediation_org, level: r.level, outcome: r.outcome, status: r.status,
    acceptedAt: iso(r.accepted_at), closedAt: iso(r.closed_at), address: r.address,
    place: r.place_id ? { id: r.place_id } : null, event: r.event_id ? { id: r.event_id } : null, recordKey: r._record_key, syncedAt: iso(r._synced_at),
  };
}
type CaseNode = ReturnType<typeof toCase>;

function toCorrection(r: CorrectionRow) {
  return {
    id: r.id, name: r.name, idNumber: r.id_number, sex: r.sex, birthDate: r.birth_date, correctionType: r.correction_type, crime: r.crime,
    startDate: r.start_date, endDate: r.end_date, status: r.status, supervisingOffice: r.supervising_office, address: r.address,
    personId: r.person_id, place: r.place_id ? { id: r.place_id } : null, recordKey: r._record_key, syncedAt: iso(r._synced_at),
  };
}
type CorrectionNode = ReturnType<typeof toCorrection>;

export const resolvers: ResolverMap = {
  Person: {
    __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
    mediationCases: async (p: { id: string }, _: unknown, ctx: Ctx) => (await ctx.loaders.casesByPerson.load(p.id)).map(toCase),
    // Being under community correction is itself sensitive: null unless the caller may read it (audited).
    correction: async (p: { id: string }, _: unknown, ctx: Ctx) => {
      const rows = await ctx.loaders.correctionsByPerson.load(p.id);
      return ctx.pii.protect('Person', 'correction', rows[0] ? toCorrection(rows[0]) : null, p.id);
    },
  },
  Place: {
    __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
    mediationCases: async (p: { id: string }, _: unknown, ctx: Ctx) => (await ctx.loaders.casesByPlace.load(p.id)).map(toCase),
  },
  Event: {
    __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
    mediationCase: async (e: { id: string }, _: unknown, ctx: Ctx) => {
      const rows = await ctx.loaders.casesByEvent.load(e.id);
      return rows[0] ? toCase(rows[0]) : null;
    },
  },
  MediationParty: protectedFields<CaseNode['parties'][number]>('MediationParty', ['idNumber', 'phone'], () => null),
  Correction: protectedFields<CorrectionNode>('Correction', ['idNumber', 'correctionType', 'crime'], (c) => c.personId),
};
