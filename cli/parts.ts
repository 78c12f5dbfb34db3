import { join } from 'node:path';
import type { PartDefinition } from './part';

/**
 * Every runnable part of the hub, in start order. `npm start` runs them all as child processes of one
 * supervisor; `npm run hub -- run <name>` runs one alone (deployment: one container per part, or several).
 * Each module exports `part: PartDefinition`; a test checks that every entry loads and is named as listed.
 */
export interface PartEntry {
  name: string;
  module: string;   // path from the repository root, without extension
  /** Only with demo data on (DEMO_ENABLED). */
  demo?: boolean;
  /**
   * Under the supervisor, start only once these parts have started (when they run at all): the worker waits for
   * the demo systems, so its first runs do not fail on a source that is still being created.
   */
  after?: string[];
  /** Flags for the part's Node.js process (the supervisor forks it with them; a deployment sets NODE_OPTIONS). */
  nodeFlags?: string[];
}

/**
 * The sync worker's young generation, larger than Node's default (16 MB semi-spaces): a linking batch keeps its
 * mentions, features and candidates for the whole of its transaction, so with small semi-spaces the scavenger
 * copies them again and again. Measured with `node --trace-gc` over bench:linking's timed window: 113 scavenges,
 * 0.86 s of the main thread at the default; 58 and 0.66 s at 32 MB (docs/performance.md). Pauses stay short
 * (about 11 ms); the gateway and subgraphs, which answer requests, keep the default.
 */
export const WORKER_NODE_FLAGS = ['--max-semi-space-size=32'];

export const PARTS: PartEntry[] = [
  { name: 'demo', module: 'demo/part', demo: true },
  { name: 'subgraph-core', module: 'subgraphs/core/part' },
  { name: 'subgraph-police', module: 'subgraphs/police/part' },
  { name: 'subgraph-justice', module: 'subgraphs/justice/part' },
  { name: 'subgraph-civil-affairs', module: 'subgraphs/civil-affairs/part' },
  { name: 'subgraph-petition', module: 'subgraphs/petition/part' },
  { name: 'subgraph-admin', module: 'subgraphs/admin/part' },
  { name: 'gateway', module: 'gateway/part' },
  { name: 'worker', module: 'sync/part', after: ['demo'], nodeFlags: WORKER_NODE_FLAGS },
  { name: 'relay', module: 'events/part' },
];

export const ROOT = join(__dirname, '..');

export function findPart(name: string): PartEntry | undefined {
  return PARTS.find((p) => p.name === name);
}

export function loadPart(entry: PartEntry): PartDefinition {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(join(ROOT, entry.module)) as { part?: PartDefinition };
  if (!mod.part || mod.part.name !== entry.name) {
    throw new Error(`${entry.module} must export \`part\` named '${entry.name}'`);
  }
  return mod.part;
}
