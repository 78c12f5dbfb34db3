import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSubgraphSdl } from '../sdl';

describe('subgraph SDL from a folder', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'tl-sdl-')); });
  afterEach(() => { rmSync(dir, { recursive: true, force: true }); });

  it('concatenates every *.graphql file in name order', () => {
    writeFileSync(join(dir, 'b-webhooks.graphql'), 'type Webhook { id: ID! }');
    writeFileSync(join(dir, 'a-admin.graphql'), 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])\ntype Query { x: Int }');
    writeFileSync(join(dir, 'notes.md'), 'ignored');
    const sdl = readSubgraphSdl(dir);
    expect(sdl.indexOf('type Query')).toBeLessThan(sdl.indexOf('type Webhook'));
    expect(sdl).not.toContain('ignored');
  });

  it('requires exactly one file with the Federation 2 @link', () => {
    writeFileSync(join(dir, 'a.graphql'), 'type Query { x: Int }');
    expect(() => readSubgraphSdl(dir)).toThrow(/exactly one \*\.graphql file must carry/);
    expect(() => readSubgraphSdl(join(dir, 'missing'))).toThrow(/No \*\.graphql file/);
  });
});
