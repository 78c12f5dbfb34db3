import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connectorsFilePath, countDeclaredConnectors } from '../../sync/connectors-file';
import { createTestDatabase, type TestDatabase } from '../../test/support/db';
import { describeDemoData, waitForDemoData } from '../demo-data';

/**
 * What `npm start` waits for after "Tonglan is ready" (cli/demo-data.ts): the connectors config/connectors.yaml
 * declares, each synced once. The whole path with the demo's four connectors is cli/__tests__/start.test.ts; these are
 * the cases the demo does not reach: a file that declares none (nothing to wait for) and a worker that has not
 * registered the file's connectors yet.
 */
describe('npm start: waiting for the demo data', () => {
  let dir: string;
  let db: TestDatabase;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'tl-demo-data-'));
    db = await createTestDatabase('demodata');
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await db.drop();
  });

  const file = (name: string, text: string) => {
    const f = path.join(dir, name);
    writeFileSync(f, text, 'utf8');
    return f;
  };

  it('counts the connectors a file declares that will run: not paused, demo ones only with the demo on', () => {
    const f = file('three.yaml', [
      'connectors:',
      '  - { department: POLICE, name: demo-police, demo: true, kind: postgres, config: { url: "${DEMO_URL}" } }',
      '  - { department: JUSTICE, name: 调解, kind: csv, paused: true }',
      '  - { department: PETITION, name: 信访, kind: http }',
    ].join('\n'));
    expect(countDeclaredConnectors(f, { demoEnabled: true })).toBe(2);
    expect(countDeclaredConnectors(f, { demoEnabled: false })).toBe(1);
    expect(countDeclaredConnectors(file('empty.yaml', 'connectors: []\n'), { demoEnabled: true })).toBe(0);
    expect(countDeclaredConnectors(file('none.yaml', '# nothing yet\n'), { demoEnabled: true })).toBe(0);
    expect(countDeclaredConnectors(path.join(dir, 'missing.yaml'), { demoEnabled: true })).toBe(0);
    // Not YAML, or not a list: unknown (the worker says why when it applies the file), so start waits as before.
    expect(countDeclaredConnectors(file('bad.yaml', 'connectors: [\n'), { demoEnabled: true })).toBeNull();
    expect(countDeclaredConnectors(file('map.yaml', 'connectors: { a: 1 }\n'), { demoEnabled: true })).toBeNull();
    // The project's own file: the demo's four department systems.
    expect(countDeclaredConnectors(connectorsFilePath('config/connectors.yaml'), { demoEnabled: true })).toBe(4);
    expect(countDeclaredConnectors(connectorsFilePath('config/connectors.yaml'), { demoEnabled: false })).toBe(0);
  });

  it('does not wait when the file declares no connector, and says so', async () => {
    const started = Date.now();
    const state = await waitForDemoData(db.url, 60_000, () => false, 0);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(state).toMatchObject({ synced: [], waiting: [], persons: 0, events: 0, declared: 0 });
    expect(describeDemoData(state!)).toBe('No connector is declared in config/connectors.yaml: the hub has no demo data to sync');
  });

  it('waits for connectors the worker has not registered yet, and says how many are missing when it gives up', async () => {
    const started = Date.now();
    const state = await waitForDemoData(db.url, 1_500, () => false, 2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_500);
    expect(describeDemoData(state!)).toBe(
      'Demo data is still syncing (0 persons and 0 events so far); the worker has registered 0 of the 2 connectors config/connectors.yaml declares');
  });

  it('stops waiting when start is stopped', async () => {
    let stopped = false;
    setTimeout(() => { stopped = true; }, 700);
    const started = Date.now();
    await expect(waitForDemoData(db.url, 60_000, () => stopped, 2)).resolves.toBeNull();
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
