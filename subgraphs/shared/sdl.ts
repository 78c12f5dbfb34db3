import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HubError } from '../../platform/errors';

/**
 * A subgraph's SDL is the concatenation, in file-name order, of every `*.graphql` file in its folder
 * (`subgraphs/<name>/*.graphql`). Several tasks can thus add types to one subgraph (the admin subgraph has a
 * file per area); exactly one file carries the Federation 2 `extend schema @link(...)`.
 */
export function subgraphSdlFiles(folder: string): string[] {
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch {
    return [];
  }
  return names.filter((f) => f.endsWith('.graphql')).sort().map((f) => join(folder, f));
}

export function readSubgraphSdl(folder: string): string {
  const files = subgraphSdlFiles(folder);
  if (!files.length) throw new HubError('TL_ERR_CONFIG_INVALID', `No *.graphql file in ${folder}`, { folder });
  const sdl = files.map((f) => `# ${f.slice(folder.length + 1)}\n${readFileSync(f, 'utf8').trim()}\n`).join('\n');
  const links = (sdl.match(/extend\s+schema\s+@link/g) ?? []).length;
  if (links !== 1) {
    throw new HubError('TL_ERR_CONFIG_INVALID',
      `${folder}: exactly one *.graphql file must carry \`extend schema @link(url: "https://specs.apollo.dev/federation/v2.x", ...)\`, found ${links}`,
      { folder, links });
  }
  return sdl;
}
