import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Pool } from '../../platform/db';
import { isHubError, toHubError } from '../../platform/errors';
import type { Logger } from '../../platform/logger';
import { DEPARTMENT_CODES, type Department } from '../../domain/departments';
import type { ConnectorKind } from '../../connectors/contract';
import { getConnector } from '../connector-store';
import type { Linker } from '../load/linker';
import { executeRun, type RunResult } from '../run-sync';
import { enqueueRun, failRun, getRun, finishRun } from '../runs';
import { queueName, type SyncJobData } from './sync-queues';

/**
 * The sync worker: one BullMQ worker per department queue, each with its own concurrency, so departments
 * are served side by side. A job executes one run (sync/run-sync.ts). Failures:
 *  - configuration, credentials or input (TL_ERR_CONNECTOR_CONFIG / _AUTH …): the run fails at once and the
 *    job is not retried (UnrecoverableError);
 *  - anything else (a source that went away, a network error): the run goes back to queued and the job is
 *    retried with exponential backoff; after the last attempt the run fails with the error.
 * `close()` (SIGTERM) aborts runs between batches — the batch in flight commits or rolls back whole — and
 * waits for the jobs to end. A worker killed outright leaves its job to BullMQ's stalled-job check, which
 * hands it to another worker; that run resumes from the last committed cursor.
 */
export interface SyncWorkerOptions {
  pool: Pool;
  connection: Redis;
  prefix: string;
  log: Logger;
  /** Runs executed at the same time per department. */
  concurrencyPerDepartment?: number;
  batchSize?: number;
  linker?: Linker | null;
  kindOf?: (kind: string) => ConnectorKind;
  /** BullMQ lock of an active job; a killed worker's job is handed on after about this long. */
  lockDuration?: number;
  stalledInterval?: number;
  departments?: Department[];
}

export class SyncWorker {
  private readonly workers: Worker<SyncJobData, unknown>[] = [];
  private readonly abort = new AbortController();

  constructor(private readonly options: SyncWorkerOptions) {
    for (const department of options.departments ?? DEPARTMENT_CODES) {
      const worker = new Worker<SyncJobData, unknown>(queueName(department), (job) => this.process(job), {
        connection: options.connection,
        prefix: options.prefix,
        concurrency: options.concurrencyPerDepartment ?? 2,
        lockDuration: options.lockDuration ?? 30_000,
        stalledInterval: options.stalledInterval ?? 30_000,
        maxStalledCount: 3,
        autorun: true,
      });
      worker.on('error', (err) => options.log.error({ err, department }, 'sync worker error'));
      this.workers.push(worker);
    }
  }

  async waitUntilReady(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.waitUntilReady()));
  }

  private async process(job: Job<SyncJobData>): Promise<unknown> {
    const { pool, log } = this.options;
    const { connectorId, mode, trigger } = job.data;
    const connector = await getConnector(pool, connectorId);
    if (!connector) return { skipped: 'connector deleted' };
    let runId = job.data.runId;
    if (runId) {
      const run = await getRun(pool, runId);
      if (!run || (run.status !== 'queued' && run.status !== 'running')) return { skipped: `run ${runId} is ${run?.status ?? 'gone'}` };
    } else {
      const { run, created } = await enqueueRun(pool, connectorId, mode, trigger);
      if (!created) return { skipped: `run ${run.id} of this connector is ${run.status}` };
      runId = run.id;
      await job.updateData({ ...job.data, runId });
    }
    if (connector.paused) {
      await finishRun(pool, runId, 'cancelled', [], 'the connector is paused');
      return { skipped: 'paused' };
    }
    const started = Date.now();
    try {
      const result: RunResult = await executeRun({
        pool, runId, connectorId, mode, log, signal: this.abort.signal,
        ...(this.options.batchSize ? { batchSize: this.options.batchSize } : {}),
        ...(this.options.linker !== undefined ? { linker: this.options.linker } : {}),
        ...(this.options.kindOf ? { kindOf: this.options.kindOf } : {}),
      });
      log.info({ connectorId, runId, mode, ...result, ms: Date.now() - started }, 'sync run ended');
      return result;
    } catch (err) {
      const e = toHubError(err);
      const schemaChanges = (err as { schemaChanges?: unknown[] }).schemaChanges ?? [];
      const noRetry = isHubError(err) && (e.category === 'config' || e.category === 'auth' || e.category === 'input');
      const final = noRetry || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      await failRun(pool, runId, err, final, schemaChanges).catch((dbErr) => log.error({ err: dbErr }, 'could not record the failed run'));
      log.warn({ connectorId, runId, code: e.code, message: e.message, final, attempt: job.attemptsMade + 1 }, 'sync run failed');
      if (noRetry) throw new UnrecoverableError(`${e.code}: ${e.message}`);
      throw err;
    }
  }

  /** Graceful stop: runs end after their current batch, then the workers close. */
  async close(): Promise<void> {
    this.abort.abort();
    await Promise.all(this.workers.map((w) => w.close()));
  }
}
