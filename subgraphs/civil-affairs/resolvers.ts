import type { SubgraphContext } from '../shared/context';
import type { ResolverMap } from '../shared/create-subgraph-server';
import { protectedFields } from '../shared/pii-guard';
import { iso } from '../shared/sql';
import type { CareServiceRow, CivilLoaders, HouseholdRow, SubsidyRow } from './loaders';

type Ctx = SubgraphContext<CivilLoaders>;

function toHousehold(r: HouseholdRow) {
  return {
    id: r.id, householdNo: r.household_no, headName: r.head_name, headIdNumber: r.head_id_number, address: r.address, memberCount: r.member_count,
    phone: r.phone, personId: r.person_id, place: r.place_id ? { id: r.place_id } : null, recordKey: r._record_key, syncedAt: iso(r._synced_at),
  };
}
function toSubsidy(r: SubsidyRow) {
  return {
    id: r.id, subsidyNo: r.subsidy_no, kind: r.kind, name: r.name, idNumber: r.id_number, householdNo: r.household_no,
    amount: r.amount === null ? null : Number(r.amount), periodStart: r.period_start, periodEnd: r.period_end, status: r.status,
    personId: r.person_id, recordKey: r._record_key, syncedAt: iso(r._synced_at),
  };
}
function toCare(r: CareServiceRow) {
  return {
    id: r.id, serviceNo: r.service_no, kind: r.kind, name: r.name, idNumber: r.id_number, provider: r.provider, serviceDate: r.service_date,
    status: r.status, note: r.note, personId: r.person_id, recordKey: r._record_key, syncedAt: iso(r._synced_at),
  };
}

export const resolvers: ResolverMap = {
  Person: {
    __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
    civilHousehold: async (p: { id: string }, _: unknown, ctx: Ctx) => {
      const rows = await ctx.loaders.householdsByPerson.load(p.id);
      return rows[0] ? toHousehold(rows[0]) : null;
    },
    subsidies: async (p: { id: string }, _: unknown, ctx: Ctx) => (await ctx.loaders.subsidiesByPerson.load(p.id)).map(toSubsidy),
    careServices: async (p: { id: string }, _: unknown, ctx: Ctx) => (await ctx.loaders.careByPerson.load(p.id)).map(toCare),
  },
  Place: {
    __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
    civilHouseholds: async (p: { id: string }, _: unknown, ctx: Ctx) => (await ctx.loaders.householdsByPlace.load(p.id)).map(toHousehold),
  },
  Household: protectedFields<ReturnType<typeof toHousehold>>('Household', ['headIdNumber', 'phone'], (h) => h.personId),
  Subsidy: protectedFields<ReturnType<typeof toSubsidy>>('Subsidy', ['idNumber'], (s) => s.personId),
  CareService: protectedFields<ReturnType<typeof toCare>>('CareService', ['idNumber', 'kind'], (c) => c.personId),
};
