import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { Pool } from '../../../platform/db';
import { createTestDatabase, type TestDatabase } from '../../../test/support/db';
import { createCivilLoaders } from '../../civil-affairs/loaders';
import { createCoreLoaders, type PageKey } from '../../core/loaders';
import { createJusticeLoaders } from '../../justice/loaders';
import { createPetitionLoaders } from '../../petition/loaders';
import { createPoliceLoaders } from '../../police/loaders';
import { identityOf } from '../testing';

interface PlanNode { 'Node Type': string; 'Relation Name'?: string; Schema?: string; Plans?: PlanNode[] }

function seqScans(node: PlanNode, found: string[] = []): string[] {
  if (node['Node Type'] === 'Seq Scan' && node['Relation Name']) found.push(`${node.Schema}.${node['Relation Name']}`);
  for (const child of node.Plans ?? []) seqScans(child, found);
  return found;
}

/**
 * Every statement of every subgraph's DataLoaders (the per-request look-ups behind entity references and nested
 * fields) is served by indexes: planned on the migrated schema with sequential scans priced out, none is left
 * to read a whole table. Such a look-up runs for every item of every answer; one without an index grows with the
 * department's table (Event.policeIncident, .mediationCase and .petition had none on event_id, migration 0212).
 */
describe('subgraph loaders: every look-up has an index', () => {
  let db: TestDatabase;
  let client: pg.PoolClient;
  const plans: { text: string; seqScans: string[] }[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('loaderidx');
    client = await db.pool.connect();
    await client.query('SET enable_seqscan = off');
  });
  afterAll(async () => { client?.release(); await db?.drop(); });

  // A pool that plans each statement the loaders send instead of running it, and answers with no rows.
  const planningPool = {
    async query(config: string | pg.QueryConfig, values?: unknown[]) {
      const text = typeof config === 'string' ? config : config.text;
      const params = typeof config === 'string' ? values : config.values ?? values;
      const { rows } = await client.query({ text: `EXPLAIN (FORMAT JSON, VERBOSE) ${text}`, values: params });
      const plan = (rows[0] as { 'QUERY PLAN': { Plan: PlanNode }[] })['QUERY PLAN'][0]!.Plan;
      plans.push({ text, seqScans: seqScans(plan) });
      return { rows: [], rowCount: 0 };
    },
  } as unknown as Pool;

  it('plans no sequential scan of a table for any loader of the five subgraphs', async () => {
    const identity = identityOf({ role: 'city-admin' });
    const ctx = { identity, pool: planningPool };
    const id = randomUUID();
    const departmentLoaders = [createPoliceLoaders(ctx), createJusticeLoaders(ctx), createCivilLoaders(ctx), createPetitionLoaders(ctx)];
    for (const loaders of departmentLoaders) {
      for (const loader of Object.values(loaders) as { load(key: string): Promise<unknown> }[]) await loader.load(id);
    }
    const core = createCoreLoaders(ctx);
    await Promise.all([
      core.personById.load(id), core.personByIdNumber.load('510104199001011234'), core.placeById.load(id), core.eventById.load(id),
      core.gridByCode.load('510104'), core.gridChildren.load('510104'), core.categoryByCode.load('01'), core.categoryChildren.load('01'),
      core.participantsByEvent.load(id), core.sourceRecordsByPerson.load(id), core.residentCount.load(id),
    ]);
    for (const owner of ['person', 'place'] as const) {
      const page: PageKey = { owner, id, first: 10, after: null };
      await core.eventPage.load(page);
      await core.eventCount.load({ owner, id });
    }
    await core.residentPage.load({ owner: 'place', id, first: 10, after: null });

    // Each department's loaders ran (one statement per loader): the check saw them all.
    expect(plans.filter((p) => /\bFROM (police|justice|civil|petition)\./.test(p.text)).length).toBeGreaterThanOrEqual(12);
    // The category tree (网格事项清单) is a reference list of some hundred rows, read whole where it is cheapest.
    const smallReferenceTables = new Set(['core.event_categories']);
    const scans = plans.map((p) => ({ ...p, seqScans: p.seqScans.filter((t) => !smallReferenceTables.has(t)) }));
    expect(scans.filter((p) => p.seqScans.length).map((p) => ({ tables: p.seqScans, statement: p.text.replace(/\s+/g, ' ').slice(0, 160) }))).toEqual([]);
  });
});
