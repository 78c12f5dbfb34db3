import { randomUUID } from 'node:crypto';
import { generateIdNumber } from '../../domain/id-number';
import { withTransaction } from '../../platform/db';
import { partLogger } from '../../platform/logger';
import type { Identity } from '../../security/identity';
import { type TestDatabase } from '../../test/support/db';
import { testPrefix } from '../../test/support/redis';
import { startAdminStack, type AdminStack } from '../../test/fixtures/admin-stack';
import { linkPersons } from '../index';
import type { PersonMention } from '../types';

const config = { SECRET_KEY: '', NODE_ENV: 'test' as const };
const log = partLogger('review-graphql-test');
log.level = 'silent';
const cityAdmin: Identity = { sub: 'u-city', role: 'city-admin', grids: [], districts: [], scopes: [] };
const cityAdminPii: Identity = { ...cityAdmin, scopes: ['pii:read'] };
const policeAdmin: Identity = { sub: 'u-police', role: 'department-admin', department: 'POLICE', grids: [], districts: [], scopes: [] };

describe('review queue in the admin subgraph', () => {
  let db: TestDatabase;
  let stack: AdminStack;
  const prefix = testPrefix('review');

  beforeAll(async () => {
    stack = await startAdminStack('reviewgql', { config, log, prefix });
    ({ db: db } = stack);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const gql = (identity: Identity, query: string, variables: Record<string, unknown> = {}) => stack.gql(identity, query, variables);

  const mention = (over: Partial<PersonMention> & { name: string }): PersonMention => {
    const recordId = randomUUID();
    return { ref: recordId, department: 'PETITION', sourceTable: 'petition.petitions', recordId, recordKey: 'k', connectorId: randomUUID(), ...over };
  };

  const LIST = `query { linkReviews { totalCount edges { node { id status score evidence department
    person { id name idNumber recordCount } candidate { id name idNumber recordCount } } } } }`;

  it('lists grey-band pairs with evidence, masks ID numbers without pii:read, and lets city-admin decide', async () => {
    const id = generateIdNumber('510104', '1988-12-01', 21, 'F');
    await withTransaction(db.pool, (c) => linkPersons(c, [mention({ name: '邓敏', idNumber: id, department: 'POLICE', sourceTable: 'police.household_registrations' })]));
    await withTransaction(db.pool, (c) => linkPersons(c, [mention({ name: '邓敏', birthDate: '1988-12-01' })]));

    const list = await gql(cityAdmin, LIST);
    expect(list.errors).toBeUndefined();
    expect(list.data!.linkReviews.totalCount).toBe(1);
    const node = list.data!.linkReviews.edges[0].node;
    expect(node).toMatchObject({ status: 'PENDING', department: 'PETITION', evidence: { name: 'same', birthDate: 'same' } });
    expect(node.candidate.idNumber).toBe(`${id.slice(0, 6)}********${id.slice(14)}`);
    const unmasked = await gql(cityAdminPii, LIST);
    expect(unmasked.data!.linkReviews.edges[0].node.candidate.idNumber).toBe(id);

    // A department admin may neither see nor decide the queue.
    const denied = await gql(policeAdmin, `mutation($id: ID!) { acceptLinkReview(id: $id) { personId } }`, { id: node.id });
    expect(denied.errors?.[0]?.extensions.code).toBe('TL_ERR_FORBIDDEN');
    expect((await gql(policeAdmin, LIST)).errors?.[0]?.extensions.code).toBe('TL_ERR_FORBIDDEN');

    const accepted = await gql(cityAdmin, `mutation($id: ID!) { acceptLinkReview(id: $id, note: "same woman") { personId mergedPersonId recordsMoved } }`, { id: node.id });
    expect(accepted.errors).toBeUndefined();
    expect(accepted.data!.acceptLinkReview).toEqual({ personId: node.candidate.id, mergedPersonId: node.person.id, recordsMoved: 1 });
    const after = await gql(cityAdmin, `query { linkReviews(status: ACCEPTED) { edges { node { status decidedBy note } } } }`);
    expect(after.data!.linkReviews.edges.map((e: any) => e.node)).toEqual([{ status: 'ACCEPTED', decidedBy: 'u-city', note: 'same woman' }]);
    const outbox = await db.pool.query(`SELECT op FROM hub.outbox WHERE entity_type = 'Person' AND entity_id = $1`, [node.person.id]);
    expect(outbox.rows.map((r) => r.op)).toEqual(['DELETE']);
  });

  it('splits and merges through the API', async () => {
    const [a] = await withTransaction(db.pool, (c) => linkPersons(c, [mention({ name: '唐军', birthDate: '1977-07-07', phone: '13811112222', sex: 'M' })]));
    const second = mention({ name: '唐军', birthDate: '1977-07-07', phone: '13811112222', sex: 'M' });
    const [b] = await withTransaction(db.pool, (c) => linkPersons(c, [second]));
    expect(b!.personId).toBe(a!.personId);
    const split = await gql(cityAdmin, `mutation($r: LinkRecordInput!) { splitPersonRecord(record: $r) { fromPersonId personId } }`,
      { r: { sourceTable: second.sourceTable, recordId: second.recordId } });
    expect(split.errors).toBeUndefined();
    expect(split.data!.splitPersonRecord.fromPersonId).toBe(a!.personId);
    const merged = await gql(cityAdmin, `mutation($p: ID!, $o: ID!) { mergePersons(personId: $p, otherPersonId: $o) { personId mergedPersonId recordsMoved } }`,
      { p: a!.personId, o: split.data!.splitPersonRecord.personId });
    expect(merged.data!.mergePersons).toEqual({ personId: a!.personId, mergedPersonId: split.data!.splitPersonRecord.personId, recordsMoved: 1 });
    const bad = await gql(cityAdmin, `mutation { mergePersons(personId: "${a!.personId}", otherPersonId: "${a!.personId}") { personId } }`);
    expect(bad.errors?.[0]?.extensions.code).toBe('TL_ERR_CONFLICT');
  });
});
