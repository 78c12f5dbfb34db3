#!/usr/bin/env tsx
import { parseArgs } from 'node:util';
import { DEPARTMENT_CODES } from '../domain/departments';
import { loadConfig } from '../platform/config';
import { isHubError } from '../platform/errors';
import { signDevToken } from '../security/dev-token';
import { isRole, ROLES, type Role } from '../security/identity';

/**
 * `npm run token -- --role ROLE [--department DEPT] [--grid CODE ...] [--district CODE ...] [--scope SCOPE ...]`
 * prints a signed development token (HS256, JWT_SECRET or the development secret) for the configured issuer
 * and audience. Development only: refused when NODE_ENV=production. `--grid`/`--district`/`--scope` repeat or
 * take comma-separated lists. The token alone goes to stdout: `TOKEN=$(npm run -s token -- --role city-admin)`.
 */
const USAGE = `usage: npm run token -- --role ROLE [--department DEPT] [--grid CODE ...] [--district CODE ...] [--scope SCOPE ...]
                          [--sub SUBJECT] [--name NAME] [--ttl 8h]
  roles:        ${ROLES.join(', ')}
  departments:  ${DEPARTMENT_CODES.join(', ')} (department-admin needs one)
  grid-worker needs --grid (4-15 digit codes); district-officer needs --district (6-digit codes)
  --scope pii:read allows unmasked sensitive fields`;

function list(values: string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
}

export async function tokenCommand(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        role: { type: 'string' },
        department: { type: 'string' },
        grid: { type: 'string', multiple: true },
        district: { type: 'string', multiple: true },
        scope: { type: 'string', multiple: true },
        sub: { type: 'string' },
        name: { type: 'string' },
        ttl: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${USAGE}`);
  }
  const { values } = parsed;
  if (values.help) throw new UsageError(USAGE, 0);
  if (!values.role) throw new UsageError(`--role is required\n${USAGE}`);
  if (!isRole(values.role)) throw new UsageError(`unknown role "${values.role}": one of ${ROLES.join(', ')}`);
  const config = loadConfig(env);
  return signDevToken(config, {
    role: values.role as Role,
    ...(values.department ? { department: values.department.toUpperCase() } : {}),
    grids: list(values.grid),
    districts: list(values.district),
    scopes: list(values.scope),
    ...(values.sub ? { sub: values.sub } : {}),
    ...(values.name ? { name: values.name } : {}),
  }, { ttl: values.ttl ?? '8h' });
}

export class UsageError extends Error {
  constructor(message: string, readonly exitCode = 2) {
    super(message);
  }
}

if (require.main === module) {
  tokenCommand(process.argv.slice(2)).then(
    (token) => process.stdout.write(`${token}\n`),
    (err: unknown) => {
      if (err instanceof UsageError) {
        (err.exitCode ? process.stderr : process.stdout).write(`${err.message}\n`);
        process.exit(err.exitCode);
      }
      console.error(`token: ${isHubError(err) ? err.message : (err as Error).message}`);
      process.exit(2);
    });
}
