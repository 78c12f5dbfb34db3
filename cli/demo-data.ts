import pg from 'pg';

/** What the hub holds once the connectors of config/connectors.yaml have each synced once. */
export interface DemoDataState {
  /** Connectors declared in config/connectors.yaml (origin 'file', not paused) with a succeeded run. */
  synced: string[];
  /** Those without one yet, as DEPARTMENT/name; with the last failed run's error, if any. */
  waiting: Array<{ connector: string; lastError: string | null }>;
  persons: number;
  events: number;
  /** How many connectors config/connectors.yaml declares, when known (more than are there: not applied yet). */
  declared: number | null;
}

/**
 * Waits until every connector of config/connectors.yaml has finished a run, or `timeoutMs` passes, or `cancelled()`.
 * `npm start` prints "Tonglan is ready" when the gateway's /readyz is green, which is before the demo part has seeded
 * its department systems and the worker has synced them: a query sent at once (the README's) would find an empty
 * hub. This tells the user when the demo data is in, or which connector it still waits for and why.
 */
export async function waitForDemoData(databaseUrl: string, timeoutMs: number, cancelled: () => boolean,
  declared: number | null = null): Promise<DemoDataState | null> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'tonglan-start' });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const deadline = Date.now() + timeoutMs;
    let state = await demoDataState(client, declared);
    // `declared`: how many connectors the file declares (countDeclaredConnectors), when known. None: nothing to wait
    // for. Otherwise the worker may not have applied the file yet: wait until that many are there and synced.
    const waiting = (s: DemoDataState) => declared !== 0
      && (s.waiting.length > 0 || !s.synced.length || (declared !== null && s.synced.length < declared));
    while (waiting(state) && Date.now() < deadline && !cancelled()) {
      await new Promise((r) => setTimeout(r, 500));
      state = await demoDataState(client, declared);
    }
    return cancelled() ? null : state;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function demoDataState(client: pg.Client, declared: number | null): Promise<DemoDataState> {
  const { rows } = await client.query<{ connector: string; synced: boolean; last_error: string | null }>(
    `SELECT c.department || '/' || c.name AS connector,
            EXISTS (SELECT FROM hub.sync_runs r WHERE r.connector_id = c.id AND r.status = 'succeeded') AS synced,
            (SELECT coalesce(r.error->>'message', r.error::text) FROM hub.sync_runs r WHERE r.connector_id = c.id AND r.status = 'failed'
              ORDER BY r.queued_at DESC LIMIT 1) AS last_error
       FROM hub.connectors c
      WHERE c.origin = 'file' AND NOT c.paused
      ORDER BY 1`);
  const counts = await client.query<{ persons: number; events: number }>(
    `SELECT (SELECT count(*) FROM core.persons WHERE merged_into IS NULL)::int AS persons,
            (SELECT count(*) FROM core.events)::int AS events`);
  return {
    synced: rows.filter((r) => r.synced).map((r) => r.connector),
    waiting: rows.filter((r) => !r.synced).map((r) => ({ connector: r.connector, lastError: r.last_error })),
    persons: counts.rows[0]!.persons,
    events: counts.rows[0]!.events,
    declared,
  };
}

/** The line `npm start` prints for the state. */
export function describeDemoData(state: DemoDataState): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const registered = state.synced.length + state.waiting.length;
  if (state.declared !== null && registered < state.declared) {
    return `Demo data is still syncing (${n(state.persons)} persons and ${n(state.events)} events so far); the worker has registered ${registered} of the ${state.declared} connectors config/connectors.yaml declares`;
  }
  if (!state.waiting.length && state.synced.length) {
    return `Demo data is in: ${n(state.persons)} persons and ${n(state.events)} events, synced from ${state.synced.join(', ')}`;
  }
  if (!state.synced.length && !state.waiting.length) return 'No connector is declared in config/connectors.yaml: the hub has no demo data to sync';
  const waiting = state.waiting.map((w) => (w.lastError ? `${w.connector} (last run failed: ${w.lastError})` : w.connector)).join('; ');
  return `Demo data is still syncing (${n(state.persons)} persons and ${n(state.events)} events so far); waiting for ${waiting}`;
}
