#!/usr/bin/env tsx
import { parseArgs } from 'node:util';
import { loadConfig } from '../platform/config';
import { createPool, pingPostgres } from '../platform/db';
import { isHubError } from '../platform/errors';
import { migrate } from '../platform/migrate';
import { createApiKey, listApiKeys, revokeApiKey } from '../security/api-keys';
import { parseDuration } from '../security/dev-token';
import { isRole, ROLES, type Role } from '../security/identity';

/**
 * API keys for integrators, on the hub's database (DATABASE_URL, or the local default):
 *   npm run apikey -- create --name NAME [--role integrator] [--department DEPT] [--grid CODE ...]
 *                            [--district CODE ...] [--scope SCOPE ...] [--expires 90d] [--by WHO]
 *   npm run apikey -- list
 *   npm run apikey -- revoke ID
 * `create` prints the key once (only its hash is stored); send it as `Authorization: ApiKey <key>`.
 */
const USAGE = `usage: npm run apikey -- create --name NAME [--role ROLE] [--department DEPT] [--grid CODE ...] [--district CODE ...]
                                  [--scope SCOPE ...] [--expires 90d] [--by WHO]
       npm run apikey -- list
       npm run apikey -- revoke ID`;
const LOCAL_PG = 'postgres://postgres@127.0.0.1:5432/tonglan';

const list = (values: string[] | undefined) => (values ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || !['create', 'list', 'revoke'].includes(command)) {
    console.error(USAGE);
    return 2;
  }
  const { values, positionals } = parseArgs({
    args: rest,
    strict: true,
    allowPositionals: command === 'revoke',
    options: {
      name: { type: 'string' }, role: { type: 'string' }, department: { type: 'string' },
      grid: { type: 'string', multiple: true }, district: { type: 'string', multiple: true }, scope: { type: 'string', multiple: true },
      expires: { type: 'string' }, by: { type: 'string' },
    },
  });
  const config = loadConfig();
  const url = config.DATABASE_URL || LOCAL_PG;
  if (!(await pingPostgres(url.replace(/\/[^/]*$/, '/postgres'), 2000))) {
    console.error(`apikey: PostgreSQL at ${new URL(url).host} is not answering (set DATABASE_URL, or start the hub once with npm start)`);
    return 1;
  }
  await migrate(url);
  const pool = createPool(url, { max: 1, applicationName: 'tonglan-apikey' });
  try {
    if (command === 'create') {
      if (!values.name) throw new Error(`--name is required\n${USAGE}`);
      const role = values.role ?? 'integrator';
      if (!isRole(role)) throw new Error(`unknown role "${role}": one of ${ROLES.join(', ')}`);
      const created = await createApiKey(pool, {
        name: values.name,
        role: role as Role,
        department: values.department?.toUpperCase() ?? null,
        grids: list(values.grid),
        districts: list(values.district),
        scopes: list(values.scope),
        expiresAt: values.expires ? new Date(Date.now() + parseDuration(values.expires) * 1000) : null,
        createdBy: values.by ?? `cli:${process.env.USER ?? 'unknown'}`,
      });
      console.error(`API key ${created.id} created for "${values.name}" (role ${role}). It is shown only now:`);
      console.log(created.key);
    } else if (command === 'list') {
      for (const k of await listApiKeys(pool)) {
        const state = k.revokedAt ? 'revoked' : k.expiresAt && k.expiresAt < new Date() ? 'expired' : 'active';
        console.log([k.id, state, k.role, k.name, k.department ?? '-', k.grids.join(',') || '-', k.scopes.join(',') || '-',
          k.lastUsedAt?.toISOString() ?? 'never used'].join('\t'));
      }
    } else {
      const id = positionals[0];
      if (!id) throw new Error(`revoke needs the key id\n${USAGE}`);
      if (!(await revokeApiKey(pool, id))) throw new Error(`no active key ${id}`);
      console.log(`revoked ${id}`);
    }
    return 0;
  } finally {
    await pool.end();
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code), (err: unknown) => {
  console.error(`apikey: ${isHubError(err) ? `${err.code}: ${err.message}` : (err as Error).message}`);
  process.exit(2);
});
