import { createTestDatabase, type TestDatabase } from '../../test/support/db';
import { partLogger } from '../../platform/logger';
import { createConnector } from '../connector-store';
import { executeRun } from '../run-sync';
import { enqueueRun } from '../runs';
import { writeRows, type MappedRow } from '../load/batch-writer';
import { loadTarget } from '../load/targets';
import { createSourceDb, insertJq, jqRow, policeConnectorInput, type SourceDb } from './fixtures';

/**
 * The load without linking (the benchmark's baseline, and any stream without persons or places): each row's
 * staging line is encoded while the row is mapped (MappedRow.copyTail) and new rows and their events are
 * inserted without ON CONFLICT. Loaded that way, the hub must hold exactly what the general path writes: the
 * same rows, events and outbox — and a changed record must update its row and event (ON CONFLICT path) with
 * exactly the changed fields.
 */
const log = partLogger('sync-test');
log.level = 'silent';

let hub: TestDatabase;
let source: SourceDb;

beforeAll(async () => {
  hub = await createTestDatabase('syncunlinked');
  source = await createSourceDb('unlinked');
  await insertJq(source.client, Array.from({ length: 30 }, (_, i) => jqRow(i)));
});

afterAll(async () => {
  await hub?.drop();
  await source?.drop();
});

async function runUnlinked(connectorId: string) {
  const { run: r } = await enqueueRun(hub.pool, connectorId, 'INCREMENTAL', 'test');
  return executeRun({ pool: hub.pool, runId: r.id, connectorId, mode: 'INCREMENTAL', log, batchSize: 7, linker: null });
}

/** A connector's rows with their events, without ids and sync times: what must not depend on the path taken. */
async function contents(connectorId: string) {
  const { rows } = await hub.pool.query(
    `SELECT i._record_key, i._row_hash, i._source_updated_at, i.incident_no, i.source_category, i.category_code, i.summary, i.reported_at,
            i.address, i.status, i.parties, i._deleted_at, e.kind, e.category_code AS ev_category, e.title, e.occurred_at, e.status AS ev_status,
            e.level, e.severity, e.closed_at, e.department, e.source_table, e.source_id = i.id AS event_of_row,
            (SELECT array_agg(o.op || ':' || array_to_string(o.changed_fields, ',') ORDER BY o.id) FROM hub.outbox o WHERE o.entity_id = e.id) AS outbox
       FROM police.incidents i LEFT JOIN core.events e ON e.id = i.event_id
      WHERE i._connector_id = $1 ORDER BY i._record_key`, [connectorId]);
  return rows;
}

describe('load without linking (rows encoded while mapping, new rows inserted plainly)', () => {
  it('writes the same rows, events and outbox as rows encoded inside the transaction', async () => {
    const a = (await createConnector(hub.pool, policeConnectorInput(source))).id;
    const result = await runUnlinked(a);
    expect(result).toMatchObject({ status: 'succeeded', read: 30, written: 30, quarantined: 0 });
    const loaded = await contents(a);
    expect(loaded).toHaveLength(30);
    for (const r of loaded) {
      expect(r.event_of_row).toBe(true);
      expect(r.outbox).toEqual([expect.stringMatching(/^CREATE:kind,/)]);
    }

    // The same mapped rows written by writeRows without a prepared line (it encodes them itself) into a second
    // connector give the same contents.
    const b = (await createConnector(hub.pool, policeConnectorInput(source))).id;
    const client = await hub.pool.connect();
    try {
      const { rows: src } = await client.query(
        `SELECT _record_key AS key, _row_hash AS hash, to_char(_source_updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS sua, incident_no, source_category,
                category_code, summary, to_char(reported_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS reported_at, address, status, parties, event_id
           FROM police.incidents WHERE _connector_id = $1 ORDER BY _record_key`, [a]);
      const { rows: ev } = await client.query(`SELECT id, kind, category_code, title, to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS occurred_at,
          status, level, severity FROM core.events`);
      const events = new Map(ev.map((e) => [e.id, e]));
      const mapped: MappedRow[] = src.map((r) => {
        const e = events.get(r.event_id)!;
        return {
          key: r.key, hash: r.hash, sourceUpdatedAt: r.sua,
          values: { incident_no: r.incident_no, source_category: r.source_category, category_code: r.category_code, summary: r.summary,
            reported_at: r.reported_at, address: r.address, status: r.status, parties: r.parties },
          event: { kind: e.kind, title: e.title, occurred_at: e.occurred_at, closed_at: null, category_code: e.category_code, status: e.status, level: e.level, severity: e.severity },
        };
      });
      const target = await loadTarget(client, 'police.incidents', 'POLICE');
      const columns = ['incident_no', 'source_category', 'category_code', 'summary', 'reported_at', 'address', 'status', 'parties'];
      const connector = (await hub.pool.query('SELECT mapping FROM hub.connectors WHERE id = $1', [b])).rows[0].mapping;
      await client.query('BEGIN');
      const w = await writeRows(client, { connectorId: b, department: 'POLICE', target, mapping: connector.streams.jq, columns, linker: null }, mapped);
      await client.query('COMMIT');
      expect(w).toEqual({ written: 30, unchanged: 0 });
    } finally {
      client.release();
    }
    expect(await contents(b)).toEqual(loaded);
  });

  it('a changed record read again updates its row and its event with exactly the changed fields', async () => {
    const c = (await createConnector(hub.pool, policeConnectorInput(source))).id;
    await runUnlinked(c);
    await insertJq(source.client, [jqRow(3, { zt: '30' }), jqRow(99)]); // jqRow(3) had zt '10' → closed; one new record
    const result = await runUnlinked(c);
    expect(result).toMatchObject({ written: 2, quarantined: 0 });
    const rows = await contents(c);
    const changed = rows.find((r) => r.incident_no === 'JJ000003')!;
    expect(changed).toMatchObject({ status: '已办结', ev_status: 'closed' });
    expect(changed.outbox).toEqual([expect.stringMatching(/^CREATE:/), 'UPDATE:status']);
    expect(rows.find((r) => r.incident_no === 'JJ000099')!.outbox).toEqual([expect.stringMatching(/^CREATE:/)]);
    expect(rows).toHaveLength(31);
  });
});
