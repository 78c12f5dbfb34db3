import { createTestDatabase, type TestDatabase } from '../../test/support/db';
import { partLogger } from '../../platform/logger';
import { createConnector } from '../connector-store';
import { executeRun } from '../run-sync';
import { enqueueRun } from '../runs';
import { createSourceDb, idNumber, insertJq, jqRow, policeConnectorInput, type SourceDb } from './fixtures';

/**
 * The batch writer's one-statement write path (merge + events + outbox) and its shortcuts: a first load deletes
 * no parties, a changed record replaces its parties and event participants (not adds to them), and the event's
 * update carries exactly the changed fields.
 */
const log = partLogger('sync-test');
log.level = 'silent';

let hub: TestDatabase;
let source: SourceDb;
let connectorId: string;

async function run() {
  const { run: r } = await enqueueRun(hub.pool, connectorId, 'INCREMENTAL', 'test');
  return executeRun({ pool: hub.pool, runId: r.id, connectorId, mode: 'INCREMENTAL', log, batchSize: 4 });
}

async function partiesOf(incidentNo: string) {
  const { rows } = await hub.pool.query<{ parties: string[]; participants: string[]; event_id: string }>(
    `SELECT i.event_id,
            ARRAY(SELECT p.id_number FROM police.incident_parties ip JOIN core.persons p ON p.id = ip.person_id WHERE ip.incident_id = i.id ORDER BY 1) AS parties,
            ARRAY(SELECT p.id_number FROM core.event_participants ep JOIN core.persons p ON p.id = ep.person_id WHERE ep.event_id = i.event_id ORDER BY 1) AS participants
       FROM police.incidents i WHERE i.incident_no = $1`, [incidentNo]);
  return rows[0]!;
}

beforeAll(async () => {
  hub = await createTestDatabase('syncbatch');
  source = await createSourceDb('batch');
  await insertJq(source.client, Array.from({ length: 10 }, (_, i) => jqRow(i)));
  connectorId = (await createConnector(hub.pool, policeConnectorInput(source))).id;
});

afterAll(async () => {
  await hub?.drop();
  await source?.drop();
});

it('a changed record replaces its parties and participants, and its event update names the changed fields only', async () => {
  expect(await run()).toMatchObject({ read: 10, written: 10 });
  const first = await partiesOf('JJ000003');
  expect(first.parties).toEqual([idNumber(3)]);
  expect(first.participants).toEqual([idNumber(3)]);
  const outboxBefore = (await hub.pool.query<{ n: string }>('SELECT max(id) AS n FROM hub.outbox')).rows[0]!.n;

  // Two parties now, and the status moved on.
  await insertJq(source.client, [jqRow(3, { zt: '30', dsr: [{ xm: '王五', sfzh: idNumber(9003), js: '1' }, { xm: '赵六', sfzh: idNumber(9004), js: '1' }] })]);
  expect(await run()).toMatchObject({ written: 1 });
  const two = await partiesOf('JJ000003');
  expect(two.event_id).toBe(first.event_id);
  expect(two.parties).toHaveLength(2);
  expect(two.participants).toEqual(two.parties);
  const { rows: ob } = await hub.pool.query(
    `SELECT entity_type, op, changed_fields FROM hub.outbox WHERE id > $1 AND entity_type = 'Event'`, [outboxBefore]);
  expect(ob).toEqual([{ entity_type: 'Event', op: 'UPDATE', changed_fields: ['status'] }]);

  // Back to one party: the other one's rows are gone (replaced, not added to).
  await insertJq(source.client, [jqRow(3, { zt: '30', dsr: [{ xm: '赵六', sfzh: idNumber(9004), js: '1' }] })]);
  expect(await run()).toMatchObject({ written: 1 });
  const one = await partiesOf('JJ000003');
  // (which person the remaining mention resolves to is linking's decision; one row each is the writer's)
  expect(one.parties).toHaveLength(1);
  expect(one.participants).toEqual(one.parties);
  // The other incidents kept theirs.
  expect((await partiesOf('JJ000004')).participants).toEqual([idNumber(4)]);
  const { rows: [n] } = await hub.pool.query<{ events: number; parties: number }>(
    `SELECT (SELECT count(*) FROM core.events)::int AS events, (SELECT count(*) FROM police.incident_parties)::int AS parties`);
  expect(n).toEqual({ events: 10, parties: 10 });
});
