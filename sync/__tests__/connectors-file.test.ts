import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { interpolate, parseConnectorsFile } from '../connectors-file';
import { validateConnectorInput } from '../connector-store';
import { compileStream } from '../mapping';
import { createTestDatabase, type TestDatabase } from '../../test/support/db';
import { loadTarget } from '../load/targets';

const FILE = join(__dirname, '..', '..', 'config', 'connectors.yaml');

describe('config/connectors.yaml', () => {
  let hub: TestDatabase;
  beforeAll(async () => { hub = await createTestDatabase('connfile'); });
  afterAll(async () => hub?.drop());

  it('declares the four demo connectors, each valid against its kind, the mapping schema and the real tables', async () => {
    const env = { DEMO_POLICE_DATABASE_URL: 'postgres://reader:pw@db.example:5433/police', DEMO_MYSQL_URL: 'mysql://root@127.0.0.1:3306/civil', DEMO_DIR: '/data/demo' };
    const inputs = parseConnectorsFile(readFileSync(FILE, 'utf8'), env, FILE);
    expect(inputs.map((c) => `${c.department}/${c.kind}`)).toEqual(['POLICE/postgres', 'CIVIL_AFFAIRS/mysql', 'JUSTICE/file', 'PETITION/http']);
    expect(inputs[0]!.config).toMatchObject({ host: 'db.example', port: 5433, database: 'police', user: 'reader', password: 'pw' });
    expect(inputs[2]!.config.path).toBe('/data/demo/justice');
    for (const input of inputs) {
      const v = validateConnectorInput(input);
      for (const s of v.streams) {
        const target = await loadTarget(hub.pool, v.mapping.streams[s.name]!.target, input.department);
        expect(() => compileStream(v.mapping, s.name, target.columnTypes, s.primaryKey, target.requiredColumns, target.notNullColumns)).not.toThrow();
      }
    }
  });

  it('interpolates ${VAR} and ${VAR:-default}, naming a missing variable and where it is used', () => {
    expect(interpolate({ a: ['x${A}y', '${B:-b}'] }, { A: '1' })).toEqual({ a: ['x1y', 'b'] });
    expect(() => interpolate({ c: { d: '${NOPE}' } }, {})).toThrow('c.d: environment variable NOPE is not set');
  });
});
