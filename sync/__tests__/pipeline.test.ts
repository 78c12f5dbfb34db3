import { createTestDatabase, type TestDatabase } from '../../test/support/db';
import { partLogger } from '../../platform/logger';
import { getConnectorKind } from '../../connectors/registry';
import type { ConnectorKind, ReadMessage } from '../../connectors/contract';
import { createConnector } from '../connector-store';
import { executeRun } from '../run-sync';
import { enqueueRun, getRun, type SyncMode } from '../runs';
import { createSourceDb, insertJq, jqRow, policeConnectorInput, type SourceDb } from './fixtures';

const log = partLogger('sync-test');
log.level = 'silent';

let hub: TestDatabase;
let source: SourceDb;
let connectorId: string;

async function run(mode: SyncMode = 'INCREMENTAL', kindOf?: (k: string) => ConnectorKind) {
  const { run: r } = await enqueueRun(hub.pool, connectorId, mode, 'test');
  const result = await executeRun({ pool: hub.pool, runId: r.id, connectorId, mode, log, batchSize: 40, ...(kindOf ? { kindOf } : {}) });
  return { result, run: (await getRun(hub.pool, r.id))! };
}

/** The hub's live rows, compared field by field with the source. */
async function liveRows() {
  const { rows } = await hub.pool.query(
    `SELECT incident_no, summary, address, status, category_code, to_char(reported_at AT TIME ZONE 'Asia/Shanghai', 'YYYYMMDDHH24MISS') AS bjsj, parties
       FROM police.incidents WHERE _connector_id = $1 AND _deleted_at IS NULL ORDER BY incident_no`, [connectorId]);
  return rows;
}

const BAD = new Set(['JJ000007', 'JJ000011', 'JJ000012']);

async function sourceRows() {
  const { rows } = await source.client.query('SELECT jjdbh, bjsj, jyaq, fadz, zt, ajlb FROM jq ORDER BY jjdbh');
  const status: Record<string, string> = { 10: '已受理', 20: '处置中', 30: '已办结' };
  const cat: Record<string, string> = { 盗窃: '020101', 诈骗: '020103', 纠纷: '0102' };
  return rows.filter((r) => !BAD.has(r.jjdbh)).map((r) => ({
    incident_no: r.jjdbh, summary: r.jyaq, address: r.fadz, status: status[r.zt], category_code: cat[r.ajlb] ?? null, bjsj: r.bjsj,
  }));
}

beforeAll(async () => {
  hub = await createTestDatabase('syncpipe');
  source = await createSourceDb('pipe');
  const rows = Array.from({ length: 120 }, (_, i) => jqRow(i));
  rows[7] = jqRow(7, { zt: '99' });                       // unknown status code
  rows[11] = jqRow(11, { bjsj: '2024-13-45' });            // not a time
  rows[12] = jqRow(12, { dsr: [{ xm: '李四', sfzh: '510104198001011230', js: '1' }] }); // bad check digit
  await insertJq(source.client, rows);
  connectorId = (await createConnector(hub.pool, policeConnectorInput(source))).id;
});

afterAll(async () => {
  await hub?.drop();
  await source?.drop();
});

describe('sync pipeline (PostgreSQL source → police.incidents)', () => {
  it('loads the good rows, quarantines exactly the bad ones with their reasons, projects events and writes outbox', async () => {
    const { result, run: r } = await run();
    expect(result).toMatchObject({ status: 'succeeded', read: 120, written: 117, quarantined: 3 });
    expect(r).toMatchObject({ status: 'succeeded', records_read: 120, records_written: 117, records_quarantined: 3 });
    expect(r.finished_at).not.toBeNull();

    const live = (await liveRows()).map(({ parties, ...rest }) => rest);
    expect(live).toEqual(await sourceRows());

    const { rows: q } = await hub.pool.query(`SELECT record_key, errors, payload FROM hub.quarantine WHERE connector_id = $1 ORDER BY record_key`, [connectorId]);
    expect(q.map((x) => x.record_key)).toEqual(['JJ000007', 'JJ000011', 'JJ000012']);
    expect(q[0].errors).toEqual([{ field: 'status', reason: 'unknown code "99"', value: '99' }]);
    expect(q[1].errors[0]).toMatchObject({ field: 'reported_at', reason: expect.stringMatching(/not a date/) });
    expect(q[2].errors[0]).toMatchObject({ field: 'parties[0].idNumber', reason: expect.stringMatching(/check digit/) });
    expect(q[2].payload.jjdbh).toBe('JJ000012');

    // Every incident is an event on the closed loop, with category and participants from linking.
    const { rows: ev } = await hub.pool.query(
      `SELECT e.status, e.category_code, e.level, i.status AS dept_status, (SELECT count(*) FROM core.event_participants p WHERE p.event_id = e.id)::int AS participants
         FROM police.incidents i JOIN core.events e ON e.id = i.event_id WHERE i._connector_id = $1`, [connectorId]);
    expect(ev).toHaveLength(117);
    const loop: Record<string, string> = { 已受理: 'accepted', 处置中: 'handling', 已办结: 'closed' };
    for (const e of ev) {
      expect(e.status).toBe(loop[e.dept_status]);
      expect(e.level).toBe('town');
      expect(e.participants).toBe(1);
    }
    const { rows: parties } = await hub.pool.query('SELECT count(*)::int AS n FROM police.incident_parties');
    expect(parties[0].n).toBe(117);
    const { rows: ob } = await hub.pool.query(`SELECT entity_type, op, count(*)::int AS n FROM hub.outbox GROUP BY 1, 2 ORDER BY 1, 2`);
    expect(ob).toEqual(expect.arrayContaining([{ entity_type: 'Event', op: 'CREATE', n: 117 }, { entity_type: 'Person', op: 'CREATE', n: 117 }]));
    const { rows: st } = await hub.pool.query('SELECT state FROM hub.connector_state WHERE connector_id = $1', [connectorId]);
    expect(st[0].state.cursor).toMatchObject({ cursor: expect.any(String) });
  });

  it('an incremental run reads only what changed since the cursor (with look-back) and writes only real changes', async () => {
    await source.client.query(`UPDATE jq SET gxsj = now() - interval '1 hour'`); // everything old, outside the look-back
    await hub.pool.query(`UPDATE hub.connector_state SET state = jsonb_set(state, '{cursor,cursor}', to_jsonb((now() - interval '30 minutes')::text)) WHERE connector_id = $1`, [connectorId]);
    const outboxBefore = (await hub.pool.query('SELECT count(*)::int AS n FROM hub.outbox')).rows[0].n;
    await insertJq(source.client, [jqRow(5, { zt: '10' }), jqRow(200), jqRow(201)]);
    const { result } = await run();
    expect(result).toMatchObject({ read: 3, written: 3, unchanged: 0, quarantined: 0 });
    expect((await liveRows()).map(({ parties, ...rest }) => rest)).toEqual(await sourceRows());
    const { rows: ob } = await hub.pool.query(`SELECT entity_type, op, changed_fields FROM hub.outbox WHERE id > 0 ORDER BY id OFFSET $1`, [outboxBefore]);
    expect(ob.filter((o) => o.entity_type === 'Event')).toEqual(expect.arrayContaining([
      { entity_type: 'Event', op: 'UPDATE', changed_fields: ['status'] },
      { entity_type: 'Event', op: 'CREATE', changed_fields: expect.arrayContaining(['kind', 'status']) },
    ]));
  });

  it('a repeated run from an old cursor leaves the data and the outbox exactly as they were (idempotent)', async () => {
    const before = await liveRows();
    const counts = async () => (await hub.pool.query(`SELECT (SELECT count(*) FROM hub.outbox)::int AS o, (SELECT count(*) FROM hub.quarantine)::int AS q,
      (SELECT count(*) FROM core.events)::int AS e, (SELECT count(*) FROM core.persons)::int AS p`)).rows[0];
    const c0 = await counts();
    await hub.pool.query('DELETE FROM hub.connector_state WHERE connector_id = $1', [connectorId]);
    const { result } = await run();
    expect(result).toMatchObject({ read: 122, written: 0, unchanged: 119, quarantined: 3 });
    expect(await liveRows()).toEqual(before);
    expect(await counts()).toEqual(c0);
  });

  it('notices a new source column and reports it without failing', async () => {
    await source.client.query(`ALTER TABLE jq ADD COLUMN cjdw text`);
    await source.client.query(`UPDATE jq SET cjdw = '浆洗街派出所', gxsj = now() WHERE jjdbh = 'JJ000001'`);
    const { result, run: r } = await run();
    expect(result.status).toBe('succeeded');
    expect(r.schema_changes).toEqual([expect.objectContaining({ stream: 'jq', column: 'cjdw', change: 'new_column' })]);
  });

  it('a full refresh soft-deletes what the source no longer has; a failed one leaves the live data untouched', async () => {
    await source.client.query(`DELETE FROM jq WHERE jjdbh IN ('JJ000001', 'JJ000002')`);
    // A source that fails half-way through the read.
    const failing = (k: string): ConnectorKind => {
      const real = getConnectorKind(k);
      return {
        ...real,
        async *read(config, options) {
          let n = 0;
          for await (const m of real.read(config, options) as AsyncIterable<ReadMessage>) {
            if (m.type === 'record' && ++n > 60) throw Object.assign(new Error('connection reset by source'), { code: 'ECONNRESET' });
            yield m;
          }
        },
      };
    };
    const before = await liveRows();
    await expect(run('FULL_REFRESH', failing)).rejects.toThrow(/connection reset/);
    expect(await liveRows()).toEqual(before);
    const { rows: shadows } = await hub.pool.query(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'hub' AND tablename LIKE 'sync_shadow_%'`);
    expect(shadows[0].n).toBe(0);

    // The worker retries a transient failure as the same run: it ends with the counts of the attempt that
    // succeeded, not the reads of the failed attempt added to them.
    const { rows: [failed] } = await hub.pool.query(`SELECT id, records_read FROM hub.sync_runs WHERE status IN ('queued', 'running')`);
    expect(failed.records_read).toBeGreaterThan(0);
    const result = await executeRun({ pool: hub.pool, runId: failed.id, connectorId, mode: 'FULL_REFRESH', log, batchSize: 40 });
    expect(result).toMatchObject({ status: 'succeeded', deleted: 2, written: 0 });
    const retried = (await getRun(hub.pool, failed.id))!;
    const sourceCount = (await source.client.query('SELECT count(*)::int AS n FROM jq')).rows[0].n;
    expect(retried).toMatchObject({ status: 'succeeded', records_read: result.read, records_deleted: 2 });
    expect(result.read).toBe(sourceCount);
    expect((await liveRows()).map(({ parties, ...rest }) => rest)).toEqual(await sourceRows());
    const { rows: gone } = await hub.pool.query(`SELECT _deleted_at IS NOT NULL AS deleted, event_id FROM police.incidents WHERE incident_no = 'JJ000001'`);
    expect(gone[0]).toEqual({ deleted: true, event_id: null });
    const { rows: del } = await hub.pool.query(`SELECT count(*)::int AS n FROM hub.outbox WHERE entity_type = 'Event' AND op = 'DELETE'`);
    expect(del[0].n).toBe(2);
  });
});
