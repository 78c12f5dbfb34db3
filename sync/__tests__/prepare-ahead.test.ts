import { createTestDatabase, type TestDatabase } from '../../test/support/db';
import { partLogger } from '../../platform/logger';
import type { PersonMention, PlaceMention } from '../../linking/types';
import { createConnector } from '../connector-store';
import { hubLinker, type Linker } from '../load/linker';
import { executeRun } from '../run-sync';
import { enqueueRun } from '../runs';
import { createSourceDb, idNumber, insertJq, jqRow, policeConnectorInput, type SourceDb } from './fixtures';

/**
 * The pipeline hands each batch's mentions to the linker's `prepare` before it waits for the batch in flight
 * (linking's own work on batch N+1 overlapping the database's on batch N). Preparing only fills caches: the
 * same source linked with and without it gives the same persons, places and links.
 */
const log = partLogger('sync-test');
log.level = 'silent';

let source: SourceDb;
const hubs: TestDatabase[] = [];

beforeAll(async () => {
  source = await createSourceDb('prepare');
  // Persons recur across batches (i % 70), some parties without an ID number (linked by name and more).
  const rows = Array.from({ length: 150 }, (_, i) => jqRow(i, i % 9 === 0
    ? { dsr: [{ xm: `王${'伟芳娜'[i % 3]}`, js: '2' }, { xm: `张伟${i % 70}`, sfzh: idNumber(i % 70), js: '1' }] }
    : { dsr: [{ xm: `张伟${i % 70}`, sfzh: idNumber(i % 70), js: '1' }] }));
  await insertJq(source.client, rows);
});

afterAll(async () => {
  for (const h of hubs) await h.drop();
  await source?.drop();
});

async function syncInto(label: string, linker: Linker) {
  const hub = await createTestDatabase(label);
  hubs.push(hub);
  const connectorId = (await createConnector(hub.pool, policeConnectorInput(source))).id;
  const { run } = await enqueueRun(hub.pool, connectorId, 'INCREMENTAL', 'test');
  const result = await executeRun({ pool: hub.pool, runId: run.id, connectorId, mode: 'INCREMENTAL', log, batchSize: 40, linker });
  // What linking decided, in terms that do not depend on generated ids.
  const { rows: links } = await hub.pool.query<{ record: string; person: string }>(
    `SELECT i.incident_no || '#' || pr.mention_key AS record, coalesce(p.id_number, p.name) AS person
       FROM core.person_records pr JOIN police.incidents i ON i.id = pr.record_id JOIN core.persons p ON p.id = pr.person_id
      ORDER BY 1`);
  const { rows: [counts] } = await hub.pool.query<{ persons: number; places: number; placed: number }>(
    `SELECT (SELECT count(*)::int FROM core.persons) AS persons, (SELECT count(*)::int FROM core.places) AS places,
            (SELECT count(*)::int FROM police.incidents WHERE place_id IS NOT NULL) AS placed`);
  return { result, links, counts: counts! };
}

test('every batch is prepared before the batch in flight is awaited, and preparing changes no link', async () => {
  const prepared: { persons: PersonMention[]; places: PlaceMention[] }[] = [];
  const recording: Linker = {
    linkPersons: hubLinker.linkPersons,
    linkPlaces: hubLinker.linkPlaces,
    prepare: async (db, persons, places) => {
      prepared.push({ persons, places });
      await hubLinker.prepare!(db, persons, places);
    },
  };
  const withPrepare = await syncInto('prepwith', recording);
  const without = await syncInto('prepwithout', { linkPersons: hubLinker.linkPersons, linkPlaces: hubLinker.linkPlaces });

  expect(withPrepare.result).toMatchObject({ read: 150, written: 150, quarantined: 0 });
  // 150 rows in batches of 40: four batches, each prepared with all of its parties and addresses.
  expect(prepared.map((b) => b.places.length)).toEqual([40, 40, 40, 30]);
  expect(prepared.reduce((n, b) => n + b.persons.length, 0)).toBe(150 + 17);
  expect(prepared[0]!.persons.slice(0, 2)).toEqual([
    expect.objectContaining({ name: '王伟', idNumber: null, department: 'POLICE', sourceTable: 'police.incidents' }),
    expect.objectContaining({ name: '张伟0', idNumber: idNumber(0) }),
  ]);

  expect(withPrepare.links.length).toBe(150 + 17);
  expect(withPrepare.links).toEqual(without.links);
  expect(withPrepare.counts).toEqual(without.counts);
  expect(withPrepare.counts.placed).toBe(150);
});
