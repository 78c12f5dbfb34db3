import type { SubgraphContext } from '../shared/context';
import type { ResolverMap } from '../shared/create-subgraph-server';
import { protectedFields } from '../shared/pii-guard';
import { iso } from '../shared/sql';
import type { HouseholdRegistrationRow, IncidentRow, PoliceLoaders } from './loaders';

type Ctx = SubgraphContext<PoliceLoaders>;

function toHousehold(r: HouseholdRegistrationRow) {
  return {
    id: r.id, householdNo: r.household_no, name: r.name, idNumber: r.id_number, sex: r.sex, birthDate: r.birth_date, ethnicity: r.ethnicity,
    relationToHead: r.relation_to_head, address: r.address, registeredAt: r.registered_at, status: r.status, personId: r.person_id,
    person: r.person_id ? { id: r.person_id } : null, place: r.place_id ? { id: r.place_id } : null, recordKey: r._record_key, syncedAt: iso(r._synced_at),
  };
}
type HouseholdNode = ReturnType<typeof toHousehold>;

function toIncident(r: IncidentRow) {
  return {
    id: r.id, incidentNo: r.incident_no, sourceCategory: r.source_category, categoryCode: r.category_code, summary: r.summary,
    reportedAt: iso(r.reported_at), address: r.address, status: r.status, handlingUnit: r.handling_unit, reporterName: r.reporter_name,
    reporterPhone: r.reporter_phone,
    parties: (Array.isArray(r.parties) ? r.parties : []).map((p) => ({ name: p.name ?? null, role: p.role ?? null, idNumber: p.idNumber ?? null, phone: p.phone ?? null })),
    place: r.place_id ? { id: r.place_id } : null, event: r.event_id ? { id: r.event_id } : null, recordKey: r._record_key, syncedAt: iso(r._synced_at),
  };
}
type IncidentNode = ReturnType<typeof toIncident>;

export const resolvers: ResolverMap = {
  Person: {
    __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
    household: async (p: { id: string }, _: unknown, ctx: Ctx) => {
      const rows = await ctx.loaders.householdsByPerson.load(p.id);
      return rows[0] ? toHousehold(rows[0]) : null;
    },
    policeIncidents: async (p: { id: string }, _: unknown, ctx: Ctx) => (await ctx.loaders.incidentsByPerson.load(p.id)).map(toIncident),
  },
  Place: {
    __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
    householdRegistrations: async (p: { id: string }, _: unknown, ctx: Ctx) => (await ctx.loaders.householdsByPlace.load(p.id)).map(toHousehold),
    policeIncidents: async (p: { id: string }, _: unknown, ctx: Ctx) => (await ctx.loaders.incidentsByPlace.load(p.id)).map(toIncident),
  },
  Event: {
    __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
    policeIncident: async (e: { id: string }, _: unknown, ctx: Ctx) => {
      const rows = await ctx.loaders.incidentsByEvent.load(e.id);
      return rows[0] ? toIncident(rows[0]) : null;
    },
  },
  HouseholdRegistration: protectedFields<HouseholdNode>('HouseholdRegistration', ['idNumber'], (h) => h.personId),
  PoliceIncident: protectedFields<IncidentNode>('PoliceIncident', ['reporterPhone'], () => null),
  IncidentParty: protectedFields<IncidentNode['parties'][number]>('IncidentParty', ['idNumber', 'phone'], () => null),
};
