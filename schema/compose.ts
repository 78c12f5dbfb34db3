import { writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { composeSupergraph, SUPERGRAPH_FILE, subgraphSdls } from './supergraph';

/** `npm run schema:compose`: compose every subgraph's SDL into schema/supergraph.graphql. */
function main(): void {
  const subgraphs = subgraphSdls();
  let sdl: string;
  try {
    sdl = composeSupergraph(subgraphs);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exitCode = 1;
    return;
  }
  writeFileSync(SUPERGRAPH_FILE, sdl);
  process.stdout.write(`composed ${subgraphs.map((s) => s.name).join(', ')} → ${relative(process.cwd(), SUPERGRAPH_FILE)}\n`);
}

main();
