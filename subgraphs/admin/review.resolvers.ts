import { withTransaction } from '../../platform/db';
import { HubError } from '../../platform/errors';
import { assertCan } from '../../security/scope';
import { auditEntry } from '../../security/audit';
import {
  acceptReview, getReview, listReviews, mergePersons, personSummaries, rejectReview, splitRecord,
  type PersonSummary, type ReviewRow,
} from '../../linking/review';
import type { ResolverMap } from '../shared/create-subgraph-server';
import type { AdminContext } from './access';

/**
 * The linking review queue in the admin API. Reading and deciding both need `review:manage` (city-admin in
 * security/roles.ts): the queue shows candidate pairs of persons across every department, and a decision
 * (merge, split) changes persons that all departments' records hang on, so a department admin may not make
 * it alone. Decisions run on the sync role's pool (the admin role may not write core) in one transaction with
 * their outbox rows, and are written to the audit log.
 */
const iso = (d: Date | string | null | undefined) => (d ? new Date(d).toISOString() : null);


function reviewView(r: ReviewRow, persons: Map<string, PersonSummary>) {
  return {
    id: r.id, sourceTable: r.sourceTable, recordId: r.recordId, mentionKey: r.mentionKey, department: r.department,
    score: r.score, evidence: r.evidence, status: r.status.toUpperCase(),
    person: persons.get(r.personId) ?? null, candidate: persons.get(r.candidatePersonId) ?? null,
    decidedBy: r.decidedBy, decidedAt: iso(r.decidedAt), note: r.note, createdAt: iso(r.createdAt),
  };
}

async function views(ctx: AdminContext, rows: ReviewRow[]) {
  const persons = await personSummaries(ctx.loaders.runtime.syncPool, [...new Set(rows.flatMap((r) => [r.personId, r.candidatePersonId]))]);
  return rows.map((r) => reviewView(r, persons));
}

async function decide<T>(ctx: AdminContext, operation: string, detail: Record<string, unknown>, fn: (client: import('../../platform/db').PoolClient) => Promise<T>): Promise<T> {
  try {
    assertCan(ctx.identity, 'review:manage');
  } catch (err) {
    await ctx.loaders.runtime.audit.record(auditEntry(ctx.identity, 'denied', { operation, detail: { action: 'review:manage', ...detail } })).catch(() => undefined);
    throw err;
  }
  const result = await withTransaction(ctx.loaders.runtime.syncPool, fn);
  await ctx.loaders.runtime.audit.record(auditEntry(ctx.identity, 'admin_change', { operation, detail: { ...detail, result } }));
  return result;
}

const STATUS = new Set(['PENDING', 'ACCEPTED', 'REJECTED', 'OBSOLETE']);

export const resolvers: ResolverMap = {
  Query: {
    linkReviews: async (_: unknown, args: { status?: string | null; department?: string | null; personId?: string | null; first?: number | null; after?: string | null }, ctx: AdminContext) => {
      assertCan(ctx.identity, 'review:manage');
      if (args.status && !STATUS.has(args.status)) throw new HubError('TL_ERR_BAD_USER_INPUT', `Unknown review status ${args.status}`);
      const page = await listReviews(ctx.loaders.runtime.syncPool, {
        ...(args.status ? { status: args.status.toLowerCase() as ReviewRow['status'] } : {}),
        ...(args.department ? { department: args.department } : {}),
        ...(args.personId ? { personId: args.personId } : {}),
      }, { first: args.first ?? 50, ...(args.after ? { after: args.after } : {}) });
      const nodes = await views(ctx, page.rows);
      return {
        edges: nodes.map((node) => ({ cursor: node.id, node })),
        pageInfo: { hasNextPage: page.hasNextPage, endCursor: nodes.length ? nodes[nodes.length - 1]!.id : null },
        totalCount: page.totalCount,
      };
    },
    linkReview: async (_: unknown, args: { id: string }, ctx: AdminContext) => {
      assertCan(ctx.identity, 'review:manage');
      const r = await getReview(ctx.loaders.runtime.syncPool, args.id);
      return r ? (await views(ctx, [r]))[0] : null;
    },
  },
  Mutation: {
    acceptLinkReview: (_: unknown, args: { id: string; note?: string | null }, ctx: AdminContext) =>
      decide(ctx, 'acceptLinkReview', { reviewId: args.id }, (c) => acceptReview(c, args.id, ctx.identity.sub, args.note ?? undefined)),
    rejectLinkReview: async (_: unknown, args: { id: string; note?: string | null }, ctx: AdminContext) => {
      const row = await decide(ctx, 'rejectLinkReview', { reviewId: args.id }, (c) => rejectReview(c, args.id, ctx.identity.sub, args.note ?? undefined));
      return (await views(ctx, [row]))[0];
    },
    splitPersonRecord: (_: unknown, args: { record: { sourceTable: string; recordId: string; mentionKey?: string | null }; note?: string | null }, ctx: AdminContext) =>
      decide(ctx, 'splitPersonRecord', { record: args.record }, (c) => splitRecord(c, {
        sourceTable: args.record.sourceTable, recordId: args.record.recordId, mentionKey: args.record.mentionKey ?? '',
      }, ctx.identity.sub, args.note ?? undefined)),
    mergePersons: (_: unknown, args: { personId: string; otherPersonId: string; note?: string | null }, ctx: AdminContext) =>
      decide(ctx, 'mergePersons', { personId: args.personId, otherPersonId: args.otherPersonId }, (c) => mergePersons(c, args.personId, args.otherPersonId, ctx.identity.sub, args.note ?? undefined)),
  },
  LinkReviewPerson: {
    idNumber: (p: PersonSummary, _: unknown, ctx: AdminContext) => ctx.pii.protect('Person', 'idNumber', p.idNumber, p.id),
    phone: (p: PersonSummary, _: unknown, ctx: AdminContext) => ctx.pii.protect('Person', 'phone', p.phone, p.id),
    recordCount: (p: PersonSummary) => p.records,
  },
};

