import type { Pool } from '../../platform/db';
import type { AuditLog } from '../../security/audit';
import type { SyncQueues } from '../../sync/worker/sync-queues';
import type { Linker } from '../../sync/load/linker';

/**
 * What the admin subgraph's resolvers need beyond the request context: a pool as the sync role (a replayed
 * quarantine record is loaded into the department tables and core, which the admin role may not write), the
 * sync queues (run now, schedules, pause), and the audit log every admin change is written to.
 */
export interface AdminRuntime {
  syncPool: Pool;
  queues: SyncQueues;
  audit: Pick<AuditLog, 'record'>;
  linker?: Linker | null;
}

export interface AdminLoaders {
  runtime: AdminRuntime;
}
