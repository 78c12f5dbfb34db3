import { createTestDatabase, type TestDatabase } from '../../test/support/db';
import { partLogger } from '../../platform/logger';
import { personLinkingStats } from '../../linking/person-linking';
import { createConnector } from '../connector-store';
import { executeRun } from '../run-sync';
import { enqueueRun } from '../runs';
import { hubLinker, type Linker } from '../load/linker';
import { createSourceDb, idNumber, insertJq, jqRow, policeConnectorInput, type SourceDb } from './fixtures';

/**
 * Sync's incremental runs normalise a coming batch's mentions while the batch before is written (prepareRowMentions):
 * the batch's linking then takes those results instead of waiting for the linking thread. The links must be the
 * ones linking without it makes.
 */
const log = partLogger('sync-test');
log.level = 'silent';

const ROWS = 90;
const BATCH = 30;

let source: SourceDb;
const hubs: TestDatabase[] = [];

beforeAll(async () => {
  source = await createSourceDb('ahead');
  // 30 persons with an ID number, each in three incidents (in different batches), and a party with a name only in
  // every fifth incident (a person of its own each time: a name alone never links).
  await insertJq(source.client, Array.from({ length: ROWS }, (_, i) => jqRow(i, {
    dsr: [{ xm: `张${'伟芳娜敏静'[i % 5]}${i % 30}`, sfzh: idNumber(i % 30), js: '1' }, ...(i % 5 === 0 ? [{ xm: '王秀英', js: '2' }] : [])],
  })));
});

afterAll(async () => {
  for (const h of hubs) await h.drop();
  await source?.drop();
});

/** Syncs the source into a new hub database with `linker`; the parties of each incident as (ID number or name, person). */
async function syncWith(linker: Linker): Promise<{ taken: number; parties: Array<{ incident: string; who: string; person: string }> }> {
  const hub = await createTestDatabase('ahead');
  hubs.push(hub);
  const connectorId = (await createConnector(hub.pool, policeConnectorInput(source))).id;
  const { run } = await enqueueRun(hub.pool, connectorId, 'INCREMENTAL', 'test');
  const before = personLinkingStats.preparedTaken;
  const result = await executeRun({ pool: hub.pool, runId: run.id, connectorId, mode: 'INCREMENTAL', log, batchSize: BATCH, linker });
  expect(result).toMatchObject({ status: 'succeeded', read: ROWS, written: ROWS, quarantined: 0 });
  const { rows } = await hub.pool.query<{ incident: string; who: string; person: string }>(
    `SELECT i.incident_no AS incident, coalesce(p.id_number, p.name) AS who, p.id::text AS person
       FROM police.incident_parties ip JOIN police.incidents i ON i.id = ip.incident_id JOIN core.persons p ON p.id = ip.person_id
      ORDER BY i.incident_no, who`);
  return { taken: personLinkingStats.preparedTaken - before, parties: rows };
}

/** The parties with each person id replaced by the order of its first appearance: equal when the grouping is. */
function grouping(parties: Array<{ incident: string; who: string; person: string }>) {
  const label = new Map<string, number>();
  return parties.map((p) => {
    if (!label.has(p.person)) label.set(p.person, label.size);
    return `${p.incident} ${p.who} #${label.get(p.person)}`;
  });
}

describe('mentions prepared ahead in sync', () => {
  it('links the batches after the first with the mentions normalised while the batch before was written, as linking without it does', async () => {
    const ahead = await syncWith(hubLinker);
    const plain = await syncWith({ linkBatch: hubLinker.linkBatch });

    // Every mention of the second and third batches (30 rows each, six of them with a second party) was prepared.
    expect(ahead.taken).toBe(2 * (BATCH + BATCH / 5));
    expect(plain.taken).toBe(0);

    expect(ahead.parties).toHaveLength(ROWS + ROWS / 5);
    expect(grouping(ahead.parties)).toEqual(grouping(plain.parties));
    // One person per ID number across the three batches; each name-only party a person of its own.
    const persons = new Set(ahead.parties.map((p) => p.person));
    expect(persons.size).toBe(30 + ROWS / 5);
  });
});
