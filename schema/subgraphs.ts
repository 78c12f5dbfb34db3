import { join } from 'node:path';
import type { HubConfig } from '../platform/config';
import { HubError } from '../platform/errors';

/**
 * Every subgraph of the supergraph, in one place: its name, its folder (SDL files + code) and its port
 * index. The default URL is `http://HOST:(SUBGRAPH_PORT_BASE + index)/graphql`; `SUBGRAPH_URLS`
 * (`name=url,name=url`) overrides it for subgraphs deployed elsewhere. schema/compose.ts composes them
 * (a subgraph whose folder has no *.graphql file yet is skipped), the gateway routes to them.
 */
export interface SubgraphEntry {
  name: string;
  /** Folder from the repository root. */
  folder: string;
  /** SUBGRAPH_PORT_BASE + index is its default port. */
  index: number;
  /** Database role its pool runs as. */
  role: string;
}

export const SUBGRAPHS: readonly SubgraphEntry[] = Object.freeze([
  { name: 'core', folder: 'subgraphs/core', index: 0, role: 'tonglan_core' },
  { name: 'police', folder: 'subgraphs/police', index: 1, role: 'tonglan_police' },
  { name: 'justice', folder: 'subgraphs/justice', index: 2, role: 'tonglan_justice' },
  { name: 'civil-affairs', folder: 'subgraphs/civil-affairs', index: 3, role: 'tonglan_civil' },
  { name: 'petition', folder: 'subgraphs/petition', index: 4, role: 'tonglan_petition' },
  { name: 'admin', folder: 'subgraphs/admin', index: 5, role: 'tonglan_admin' },
]);

export const ROOT = join(__dirname, '..');

export function subgraphEntry(name: string): SubgraphEntry {
  const entry = SUBGRAPHS.find((s) => s.name === name);
  if (!entry) throw new HubError('TL_ERR_CONFIG_INVALID', `Unknown subgraph ${name}`, { subgraph: name });
  return entry;
}

export function subgraphFolder(entry: SubgraphEntry): string {
  return join(ROOT, entry.folder);
}

export function subgraphPort(config: Pick<HubConfig, 'SUBGRAPH_PORT_BASE'>, entry: SubgraphEntry): number {
  return config.SUBGRAPH_PORT_BASE + entry.index;
}

/** `SUBGRAPH_URLS` parsed: name → URL. Throws TL_ERR_CONFIG_INVALID naming a bad entry. */
export function subgraphUrlOverrides(value: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of value.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    const name = part.slice(0, eq).trim();
    const url = part.slice(eq + 1).trim();
    if (eq <= 0 || !SUBGRAPHS.some((s) => s.name === name) || !/^https?:\/\//.test(url)) {
      throw new HubError('TL_ERR_CONFIG_INVALID', `SUBGRAPH_URLS: bad entry "${part}" (expected name=http://host:port/graphql with a known subgraph name)`, { entry: part });
    }
    out[name] = url;
  }
  return out;
}

/** The URL the gateway calls for each subgraph. */
export function subgraphUrls(config: Pick<HubConfig, 'HOST' | 'SUBGRAPH_PORT_BASE' | 'SUBGRAPH_URLS'>): Record<string, string> {
  const overrides = subgraphUrlOverrides(config.SUBGRAPH_URLS);
  const host = config.HOST === '0.0.0.0' ? '127.0.0.1' : config.HOST;
  return Object.fromEntries(SUBGRAPHS.map((s) => [s.name, overrides[s.name] ?? `http://${host}:${subgraphPort(config, s)}/graphql`]));
}
