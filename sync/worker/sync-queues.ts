import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Pool } from '../../platform/db';
import { HubError } from '../../platform/errors';
import { DEPARTMENT_CODES, type Department } from '../../domain/departments';
import type { ConnectorRecord } from '../connector-store';
import { enqueueRun, type SyncMode, type SyncRunRow } from '../runs';

/**
 * The sync job queues: one BullMQ queue per department (`sync-police` …), so each department has its own
 * line and its own workers and one huge department cannot starve the others. A connector's schedule is a
 * BullMQ job scheduler (`connector:<id>`, cron or interval); run-now adds a job whose id is the run's id.
 * Used by the worker and by the admin API (another process), both against the same Redis.
 */
export interface SyncJobData {
  connectorId: string;
  mode: SyncMode;
  trigger: string;
  /** Set for run-now jobs (the run row exists already); scheduled jobs create their run when they start. */
  runId?: string;
}

export const SYNC_JOB_NAME = 'sync';

/** Transient failures retry with exponential backoff (2 s, 4 s, 8 s …); configuration/auth failures never. */
export const SYNC_JOB_OPTIONS: JobsOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 2000 },
  removeOnComplete: { count: 500 },
  removeOnFail: { count: 1000 },
};

export function queueName(department: Department): string {
  return `sync-${department.toLowerCase().replace(/_/g, '-')}`;
}

export function schedulerId(connectorId: string): string {
  return `connector:${connectorId}`;
}

export class SyncQueues {
  readonly queues: ReadonlyMap<Department, Queue<SyncJobData>>;

  constructor(private readonly pool: Pool, connection: Redis, readonly prefix: string) {
    this.queues = new Map(DEPARTMENT_CODES.map((d) => [d, new Queue<SyncJobData>(queueName(d), { connection, prefix })]));
  }

  queue(department: Department): Queue<SyncJobData> {
    return this.queues.get(department)!;
  }

  /**
   * Queue a run of the connector now. At most one run per connector is active: when one is queued or running
   * already, that run is returned instead of a new one.
   */
  async runNow(connector: ConnectorRecord, mode: SyncMode = 'INCREMENTAL', trigger = 'manual'): Promise<{ run: SyncRunRow; created: boolean }> {
    if (connector.paused) throw new HubError('TL_ERR_CONFLICT', `Connector "${connector.name}" is paused; resume it first`, { field: 'connectorId' });
    const result = await enqueueRun(this.pool, connector.id, mode, trigger);
    // A queued run whose job is gone (Redis keeps nothing on disk) gets its job back.
    if (result.created || (result.run.status === 'queued' && !(await this.queue(connector.department).getJob(result.run.id)))) {
      await this.addRunJob(connector.department, result.run);
    }
    return result;
  }

  private async addRunJob(department: Department, run: SyncRunRow): Promise<void> {
    await this.queue(department).add(SYNC_JOB_NAME, { connectorId: run.connector_id, mode: run.mode, trigger: run.trigger, runId: run.id }, { ...SYNC_JOB_OPTIONS, jobId: run.id });
  }

  /**
   * Queued runs whose job was lost (a Redis restart: it keeps nothing on disk) would block their connector for
   * good (one active run per connector): give each its job again. Called when the worker starts.
   */
  async requeueOrphans(): Promise<number> {
    const { rows } = await this.pool.query<SyncRunRow & { department: Department }>(
      `SELECT r.*, c.department FROM hub.sync_runs r JOIN hub.connectors c ON c.id = r.connector_id WHERE r.status = 'queued'`);
    let n = 0;
    for (const run of rows) {
      if (await this.queue(run.department).getJob(run.id)) continue;
      await this.addRunJob(run.department, run);
      n++;
    }
    return n;
  }

  /** Make the connector's job scheduler match its schedule and paused flag. */
  async schedule(connector: ConnectorRecord): Promise<void> {
    const queue = this.queue(connector.department);
    const id = schedulerId(connector.id);
    if (!connector.schedule || connector.paused) {
      await queue.removeJobScheduler(id);
      return;
    }
    const repeat = 'everyMs' in connector.schedule
      ? { every: connector.schedule.everyMs }
      : { pattern: connector.schedule.cron, ...(connector.schedule.tz ? { tz: connector.schedule.tz } : { tz: 'Asia/Shanghai' }) };
    await queue.upsertJobScheduler(id, repeat, {
      name: SYNC_JOB_NAME,
      data: { connectorId: connector.id, mode: 'INCREMENTAL', trigger: 'schedule' },
      opts: SYNC_JOB_OPTIONS,
    });
  }

  async unschedule(connector: Pick<ConnectorRecord, 'id' | 'department'>): Promise<void> {
    await this.queue(connector.department).removeJobScheduler(schedulerId(connector.id));
  }

  /** Remove schedulers of connectors that no longer exist or changed department. */
  async reconcile(connectors: ConnectorRecord[]): Promise<void> {
    const wanted = new Set(connectors.map((c) => `${c.department}/${schedulerId(c.id)}`));
    for (const [department, queue] of this.queues) {
      for (const s of await queue.getJobSchedulers(0, -1)) {
        const key = s.key ?? (s as { id?: string }).id;
        if (key && !wanted.has(`${department}/${key}`)) await queue.removeJobScheduler(key);
      }
    }
    for (const c of connectors) await this.schedule(c);
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
  }
}
