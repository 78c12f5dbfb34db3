#!/usr/bin/env tsx
import { parseArgs } from 'node:util';
import { loadConfig } from '../platform/config';
import { createPool, pingPostgres } from '../platform/db';
import { isHubError } from '../platform/errors';
import { AUDIT_KINDS, queryAuditLog, verifyChain, type AuditKind } from '../security/audit';

/**
 * The audit log for operators, on the hub's database (DATABASE_URL, or the local default):
 *   npm run audit-log -- verify                     recompute the hash chain; exit 1 when it is broken
 *   npm run audit-log -- list [--actor A] [--kind K] [--person UUID] [--first N]
 * `verify` prints the head hash: record it somewhere else (a ticket, a daily log) to anchor the chain.
 */
const USAGE = `usage: npm run audit-log -- verify
       npm run audit-log -- list [--actor ACTOR] [--kind ${AUDIT_KINDS.join('|')}] [--person UUID] [--first N]`;
const LOCAL_PG = 'postgres://postgres@127.0.0.1:5432/tonglan';

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command !== 'verify' && command !== 'list') {
    console.error(USAGE);
    return 2;
  }
  const { values } = parseArgs({
    args: rest, strict: true,
    options: { actor: { type: 'string' }, kind: { type: 'string' }, person: { type: 'string' }, first: { type: 'string' } },
  });
  if (values.kind && !AUDIT_KINDS.includes(values.kind as AuditKind)) throw new Error(`--kind must be one of ${AUDIT_KINDS.join(', ')}`);
  const url = loadConfig().DATABASE_URL || LOCAL_PG;
  if (!(await pingPostgres(url, 2000))) {
    console.error(`audit-log: PostgreSQL at ${new URL(url).host}${new URL(url).pathname} is not answering (set DATABASE_URL)`);
    return 1;
  }
  const pool = createPool(url, { max: 1, applicationName: 'tonglan-audit-log' });
  try {
    if (command === 'verify') {
      const report = await verifyChain(pool);
      console.log(JSON.stringify(report));
      return report.ok ? 0 : 1;
    }
    const rows = await queryAuditLog(pool, { sub: 'cli', role: 'city-admin', grids: [], districts: [], scopes: [] }, {
      ...(values.actor ? { actor: values.actor } : {}),
      ...(values.kind ? { kind: values.kind as AuditKind } : {}),
      ...(values.person ? { personId: values.person } : {}),
      first: values.first ? Number(values.first) : 50,
    });
    for (const r of rows) {
      console.log([r.id, r.at.toISOString(), r.kind, r.actor, r.role ?? '-', r.operation ?? '-', r.fields.join(',') || '-', r.persons.join(',') || '-'].join('\t'));
    }
    return 0;
  } finally {
    await pool.end();
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code), (err: unknown) => {
  console.error(`audit-log: ${isHubError(err) ? `${err.code}: ${err.message}` : (err as Error).message}`);
  process.exit(2);
});
