import { auditEntry, createAuditLog } from '../../security/audit';
import type { SubgraphContext } from '../shared/context';

/**
 * Single-object lookups outside the caller's scope answer `null`, exactly like an object that does not exist
 * (so scope cannot be probed), but they are recorded: a grid worker asking for a person of another grid is a
 * denied request and goes to the audit log as `denied` (who, the operation, which object). Lookups of objects
 * that do not exist at all are not denials and are not recorded.
 *
 * The existence check runs only after the scoped lookup found nothing, so a normal request costs no extra
 * statement. Recording is awaited: if the audit log cannot take the entry, the request fails.
 */
const TABLES = {
  person: { table: 'core.persons', column: 'id', cast: 'uuid', key: 'id' },
  personByIdNumber: { table: 'core.persons', column: 'id_number', cast: 'text', key: 'id' },
  place: { table: 'core.places', column: 'id', cast: 'uuid', key: 'id' },
  event: { table: 'core.events', column: 'id', cast: 'uuid', key: 'id' },
  grid: { table: 'core.grids', column: 'code', cast: 'text', key: 'code' },
} as const;

export type LookupKind = keyof typeof TABLES;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Call when a scoped single-object lookup found nothing: records a `denied` entry if the object exists. */
export async function auditIfOutOfScope(ctx: SubgraphContext<unknown>, kind: LookupKind, key: string): Promise<void> {
  const t = TABLES[kind];
  if (t.cast === 'uuid' && !UUID.test(key)) return;
  const { rows } = await ctx.pool.query<{ id: string }>(`SELECT ${t.key}::text AS id FROM ${t.table} WHERE ${t.column} = $1::${t.cast} LIMIT 1`, [key]);
  if (!rows[0]) return;
  const isPerson = t.table === 'core.persons';
  await createAuditLog(ctx.pool).record(auditEntry(ctx.identity, 'denied', {
    operation: ctx.operationName,
    persons: isPerson ? [rows[0].id] : [],
    // Never an ID number in the log's detail: the person id says who it was.
    detail: { subgraph: 'core', reason: 'out_of_scope', lookup: kind, ...(isPerson ? {} : { id: rows[0].id }) },
  }));
}
