import { type TestDatabase } from '../../../test/support/db';
import { testPrefix } from '../../../test/support/redis';
import { startAdminStack, type AdminStack } from '../../../test/fixtures/admin-stack';
import { partLogger } from '../../../platform/logger';
import type { Identity } from '../../../security/identity';
import { SyncQueues } from '../../../sync/worker/sync-queues';
import { createSourceDb, policeConnectorInput, type SourceDb } from '../../../sync/__tests__/fixtures';

const config = { SECRET_KEY: '', NODE_ENV: 'test' as const };
const log = partLogger('admin-test');
log.level = 'silent';

let hub: TestDatabase;
let stack: AdminStack;
let source: SourceDb;
let queues: SyncQueues;
const prefix = testPrefix('admin');

const policeAdmin: Identity = { sub: 'u-police', role: 'department-admin', department: 'POLICE', grids: [], districts: [], scopes: [] };
const justiceAdmin: Identity = { sub: 'u-justice', role: 'department-admin', department: 'JUSTICE', grids: [], districts: [], scopes: [] };
const cityAdmin: Identity = { sub: 'u-city', role: 'city-admin', grids: [], districts: [], scopes: [] };
const gridWorker: Identity = { sub: 'u-grid', role: 'grid-worker', grids: ['510107001001001'], districts: [], scopes: [] };

const gql = (identity: Identity, query: string, variables: Record<string, unknown> = {}) => stack.gql(identity, query, variables);

const CREATE = `mutation($input: ConnectorInput!) { createConnector(input: $input) { id department name config secretFields origin } }`;

function input(department: string, name: string) {
  const i = policeConnectorInput(source);
  const mapping = department === 'POLICE' ? i.mapping : { version: 1, streams: { jq: { target: 'justice.mediation_cases', fields: { case_no: 'jjdbh' } } } };
  return { ...i, department, name, config: { ...i.config, password: 's3cret-pw' }, mapping, schedule: { everyMs: 600000 } };
}

beforeAll(async () => {
  stack = await startAdminStack('admin', { config, log, prefix });
  ({ db: hub, queues } = stack);
  source = await createSourceDb('admin');
});

afterAll(async () => {
  await stack?.stop();
  await source?.drop();
});

describe('admin subgraph: connectors, runs, quarantine', () => {
  let policeId: string;
  let justiceId: string;

  it('creates connectors with secrets stored encrypted and never returned; a department admin only for their department', async () => {
    const created = await gql(policeAdmin, CREATE, { input: input('POLICE', 'jq-police') });
    expect(created.errors).toBeUndefined();
    const c = created.data!.createConnector;
    policeId = c.id;
    expect(c).toMatchObject({ department: 'POLICE', secretFields: ['password'], origin: 'api' });
    expect(JSON.stringify(c)).not.toContain('s3cret-pw');
    const { rows } = await hub.pool.query('SELECT config, secrets FROM hub.connectors WHERE id = $1', [policeId]);
    expect(JSON.stringify(rows[0])).not.toContain('s3cret-pw');
    expect(rows[0].secrets).toMatchObject({ v: 1, iv: expect.any(String), data: expect.any(String) });
    expect(await queues.queue('POLICE').getJobSchedulersCount()).toBe(1);

    const denied = await gql(policeAdmin, CREATE, { input: input('JUSTICE', 'jq-justice') });
    expect(denied.errors?.[0]?.extensions.code).toBe('TL_ERR_FORBIDDEN');
    const ok = await gql(justiceAdmin, CREATE, { input: input('JUSTICE', 'jq-justice') });
    justiceId = ok.data!.createConnector.id;
  });

  it('checks the department on every read and change', async () => {
    const list = await gql(policeAdmin, `{ connectors { id department } }`);
    expect(list.data!.connectors).toEqual([{ id: policeId, department: 'POLICE' }]);
    const all = await gql(cityAdmin, `{ connectors { department } }`);
    expect(all.data!.connectors.map((c: { department: string }) => c.department).sort()).toEqual(['JUSTICE', 'POLICE']);
    expect((await gql(policeAdmin, `{ connectors(department: JUSTICE) { id } }`)).errors?.[0]?.extensions.code).toBe('TL_ERR_FORBIDDEN');
    expect((await gql(policeAdmin, `query($id: ID!) { connector(id: $id) { id } }`, { id: justiceId })).errors?.[0]?.extensions.code).toBe('TL_ERR_FORBIDDEN');
    expect((await gql(policeAdmin, `mutation($id: ID!) { deleteConnector(id: $id) }`, { id: justiceId })).errors?.[0]?.extensions.code).toBe('TL_ERR_FORBIDDEN');
    expect((await gql(policeAdmin, `mutation($id: ID!) { runSync(connectorId: $id) { id } }`, { id: justiceId })).errors?.[0]?.extensions.code).toBe('TL_ERR_FORBIDDEN');
    expect((await gql(gridWorker, `{ connectors { id } }`)).errors?.[0]?.extensions.code).toBe('TL_ERR_FORBIDDEN');
    expect((await gql(gridWorker, `{ connectorKinds { kind } }`)).errors?.[0]?.extensions.code).toBe('TL_ERR_FORBIDDEN');
    const kinds = await gql(policeAdmin, `{ connectorKinds { kind spec supportsIncremental } }`);
    expect(kinds.data!.connectorKinds.map((k: { kind: string }) => k.kind)).toEqual(expect.arrayContaining(['postgres', 'mysql', 'http', 'file', 'push']));
  });

  it('validates a connector, naming the path of the problem', async () => {
    const bad = input('POLICE', 'bad-one');
    (bad.mapping as any).streams.jq.fields.sex = { from: 'xb', codes: 'no_such_table' };
    const res = await gql(policeAdmin, CREATE, { input: bad });
    expect(res.errors?.[0]).toMatchObject({ extensions: { code: 'TL_ERR_CONNECTOR_CONFIG' } });
    expect(res.errors?.[0]?.message).toContain('mapping/streams/jq/fields/sex/codes: unknown code table "no_such_table"');
  });

  it('updates keep the stored secret; check, discover, run, pause and resume work and are audited', async () => {
    const upd = input('POLICE', 'jq-police');
    delete (upd.config as Record<string, unknown>).password;
    const updated = await gql(policeAdmin, `mutation($id: ID!, $input: ConnectorInput!) { updateConnector(id: $id, input: $input) { secretFields } }`, { id: policeId, input: upd });
    expect(updated.data!.updateConnector.secretFields).toEqual(['password']);

    const check = await gql(policeAdmin, `mutation($id: ID!) { checkConnector(id: $id) { ok message code } }`, { id: policeId });
    expect(check.data!.checkConnector.ok).toBe(true);
    const discover = await gql(policeAdmin, `mutation($id: ID!) { discoverConnector(id: $id) }`, { id: policeId });
    expect(discover.data!.discoverConnector).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'jq', primaryKey: ['jjdbh'] })]));

    const run = await gql(policeAdmin, `mutation($id: ID!) { runSync(connectorId: $id, mode: FULL_REFRESH) { id status mode recordsRead startedAt finishedAt recordsWritten recordsQuarantined error } }`, { id: policeId });
    expect(run.data!.runSync).toMatchObject({ status: 'QUEUED', mode: 'FULL_REFRESH', recordsRead: 0 });
    const again = await gql(policeAdmin, `mutation($id: ID!) { runSync(connectorId: $id) { id } }`, { id: policeId });
    expect(again.data!.runSync.id).toBe(run.data!.runSync.id);
    const viewed = await gql(policeAdmin, `query($id: ID!) { syncRun(id: $id) { id status connector { name } } }`, { id: run.data!.runSync.id });
    expect(viewed.data!.syncRun).toMatchObject({ status: 'QUEUED', connector: { name: 'jq-police' } });
    expect((await gql(justiceAdmin, `query($id: ID!) { syncRun(id: $id) { id } }`, { id: run.data!.runSync.id })).errors?.[0]?.extensions.code).toBe('TL_ERR_FORBIDDEN');

    const paused = await gql(policeAdmin, `mutation($id: ID!) { pauseConnector(id: $id) { paused } }`, { id: policeId });
    expect(paused.data!.pauseConnector.paused).toBe(true);
    expect(await queues.queue('POLICE').getJobSchedulersCount()).toBe(0);
    await gql(policeAdmin, `mutation($id: ID!) { resumeConnector(id: $id) { paused } }`, { id: policeId });
    expect(await queues.queue('POLICE').getJobSchedulersCount()).toBe(1);

    const { rows } = await hub.pool.query(`SELECT actor, kind, operation, fields FROM hub.audit_log ORDER BY id`);
    expect(rows).toEqual(expect.arrayContaining([
      expect.objectContaining({ actor: 'u-police', kind: 'admin_change', operation: 'createConnector' }),
      expect.objectContaining({ actor: 'u-police', kind: 'admin_change', operation: 'updateConnector' }),
      expect.objectContaining({ actor: 'u-police', kind: 'admin_change', operation: 'runSync' }),
      expect.objectContaining({ actor: 'u-police', kind: 'admin_change', operation: 'pauseConnector' }),
      expect.objectContaining({ actor: 'u-police', kind: 'denied', operation: 'createConnector' }),
    ]));
    expect(JSON.stringify(rows)).not.toContain('s3cret-pw');
  });

  it('lists, corrects, replays and discards quarantined records', async () => {
    const bad = { jjdbh: 'JJ900001', bjsj: '20240105083000', ajlb: '盗窃', jyaq: '电动车被盗', fadz: '武侯区浆洗街街道洗面桥街1号', zt: '99', dsr: [], gxsj: '2024-01-05T00:00:00Z' };
    const { rows: [q1] } = await hub.pool.query(
      `INSERT INTO hub.quarantine (connector_id, department, stream, record_key, payload, errors) VALUES ($1, 'POLICE', 'jq', 'JJ900001', $2, $3) RETURNING id`,
      [policeId, bad, JSON.stringify([{ field: 'status', reason: 'unknown code "99"' }])]);
    const { rows: [q2] } = await hub.pool.query(
      `INSERT INTO hub.quarantine (connector_id, department, stream, record_key, payload, errors) VALUES ($1, 'POLICE', 'jq', 'JJ900002', $2, '[]') RETURNING id`,
      [policeId, { ...bad, jjdbh: 'JJ900002' }]);

    const list = await gql(policeAdmin, `query($c: ID!) { quarantine(connectorId: $c) { totalCount edges { node { id recordKey errors status } } } }`, { c: policeId });
    expect(list.data!.quarantine.totalCount).toBe(2);
    expect((await gql(justiceAdmin, `query($c: ID!) { quarantine(connectorId: $c) { totalCount } }`, { c: policeId })).errors?.[0]?.extensions.code).toBe('TL_ERR_FORBIDDEN');

    // Replay as is: still fails, stays open with its reasons.
    const still = await gql(policeAdmin, `mutation($id: ID!) { replayQuarantined(id: $id) { status errors } }`, { id: String(q1.id) });
    expect(still.data!.replayQuarantined).toMatchObject({ status: 'OPEN', errors: [{ field: 'status', reason: 'unknown code "99"', value: '99' }] });

    const corrected = await gql(policeAdmin, `mutation($id: ID!, $p: JSON!) { correctQuarantined(id: $id, payload: $p) { payload } }`, { id: String(q1.id), p: { ...bad, zt: '20' } });
    expect(corrected.data!.correctQuarantined.payload.zt).toBe('20');
    const replayed = await gql(policeAdmin, `mutation($id: ID!) { replayQuarantined(id: $id) { status resolvedBy } }`, { id: String(q1.id) });
    expect(replayed.data!.replayQuarantined).toEqual({ status: 'REPLAYED', resolvedBy: 'u-police' });
    const { rows: loaded } = await hub.pool.query(`SELECT i.status, e.status AS event_status FROM police.incidents i JOIN core.events e ON e.id = i.event_id WHERE i.incident_no = 'JJ900001'`);
    expect(loaded).toEqual([{ status: '处置中', event_status: 'handling' }]);

    const discarded = await gql(policeAdmin, `mutation($id: ID!) { discardQuarantined(id: $id, reason: "test record") { status } }`, { id: String(q2.id) });
    expect(discarded.data!.discardQuarantined.status).toBe('DISCARDED');
    const open = await gql(policeAdmin, `query($c: ID!) { quarantine(connectorId: $c) { totalCount } }`, { c: policeId });
    expect(open.data!.quarantine.totalCount).toBe(0);
  });

  it('deletes a connector and its schedule', async () => {
    const res = await gql(policeAdmin, `mutation($id: ID!) { deleteConnector(id: $id) }`, { id: policeId });
    expect(res.data!.deleteConnector).toBe(true);
    expect(await queues.queue('POLICE').getJobSchedulersCount()).toBe(0);
  });
});
