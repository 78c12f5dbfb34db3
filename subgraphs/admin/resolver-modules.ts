import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ResolverMap } from '../shared/create-subgraph-server';

/**
 * The admin subgraph is shared by several areas (connectors and sync, webhooks, the linking review queue):
 * each adds a `<area>.graphql` file and a `<area>.resolvers.ts` module exporting `resolvers`. This merges the
 * modules of the folder, type by type; two modules resolving the same field is an error, not a silent win.
 */
export function loadResolverModules(folder: string): ResolverMap {
  const files = readdirSync(folder).filter((f) => /\.resolvers\.(ts|js)$/.test(f) && !f.endsWith('.d.ts')).sort();
  const merged: ResolverMap = {};
  const owner = new Map<string, string>();
  for (const file of files) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(join(folder, file)) as { resolvers?: ResolverMap };
    if (!mod.resolvers) throw new Error(`${file} must export \`resolvers\``);
    for (const [type, fields] of Object.entries(mod.resolvers)) {
      const target = (merged[type] ??= {});
      if (typeof fields !== 'object' || fields === null || fields.constructor?.name === 'GraphQLScalarType') {
        if (owner.has(type)) throw new Error(`${file}: ${type} is resolved by ${owner.get(type)} already`);
        merged[type] = fields;
        owner.set(type, file);
        continue;
      }
      for (const [field, fn] of Object.entries(fields)) {
        const key = `${type}.${field}`;
        if (owner.has(key)) throw new Error(`${file}: ${key} is resolved by ${owner.get(key)} already`);
        owner.set(key, file);
        target[field] = fn;
      }
    }
  }
  return merged;
}
