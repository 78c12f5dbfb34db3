import { HubError } from '../../platform/errors';
import type { Department } from '../../domain/departments';
import { getConnectorKind, listConnectorKinds, REDACTED, secretPaths } from '../../connectors/registry';
import {
  connectorSettings, createConnector, deleteConnector, getConnector, listConnectors, publicConfig, setPaused, updateConnector,
  type ConnectorInput, type ConnectorRecord,
} from '../../sync/connector-store';
import { correctQuarantined, discardQuarantined, getQuarantined, listQuarantined, replayQuarantined, type QuarantineRow } from '../../sync/quarantine';
import { getRun, listRuns, type SyncMode, type SyncRunRow } from '../../sync/runs';
import type { ResolverMap } from '../shared/create-subgraph-server';
import { assertDepartment, readableDepartments, recordChange, type AdminContext } from './access';
import { JSONScalar } from './json-scalar';

/**
 * Connectors, sync runs and quarantine: the admin API of the sync pipeline (CONTRACT.md names). Every
 * resolver that reaches a connector checks the caller's right on the connector's department; every change is
 * written to the audit log. Secret settings are never returned: `config` has them absent, `secretFields`
 * names those that are set.
 */
const iso = (d: Date | null | undefined) => (d ? new Date(d).toISOString() : null);

function connectorView(c: ConnectorRecord) {
  return {
    id: c.id, department: c.department, name: c.name, kind: c.kind, config: publicConfig(c), secretFields: c.secretFields,
    streams: c.streams, mapping: c.mapping, schedule: c.schedule, paused: c.paused, origin: c.origin,
    createdAt: iso(c.createdAt), updatedAt: iso(c.updatedAt),
  };
}

function runView(r: SyncRunRow) {
  const end = r.finished_at ? new Date(r.finished_at).getTime() : Date.now();
  return {
    id: r.id, connectorId: r.connector_id, mode: r.mode, trigger: r.trigger, status: r.status.toUpperCase(),
    queuedAt: iso(r.queued_at), startedAt: iso(r.started_at), finishedAt: iso(r.finished_at),
    durationMs: r.started_at ? end - new Date(r.started_at).getTime() : null,
    recordsRead: r.records_read, recordsWritten: r.records_written, recordsUnchanged: r.records_unchanged,
    recordsQuarantined: r.records_quarantined, recordsDeleted: r.records_deleted,
    progress: r.progress, schemaChanges: r.schema_changes, error: r.error,
  };
}

function quarantineView(q: QuarantineRow) {
  return {
    id: String(q.id), connectorId: q.connector_id, runId: q.run_id, department: q.department, stream: q.stream, recordKey: q.record_key,
    payload: q.payload, errors: q.errors, status: q.status.toUpperCase(), createdAt: iso(q.created_at), resolvedAt: iso(q.resolved_at), resolvedBy: q.resolved_by,
  };
}

async function connectorFor(ctx: AdminContext, id: string, action: 'connectors:read' | 'connectors:manage' | 'quarantine:manage', operation: string): Promise<ConnectorRecord> {
  const c = await getConnector(ctx.pool, id);
  if (!c) throw new HubError('TL_ERR_NOT_FOUND', `No connector ${id}`);
  await assertDepartment(ctx, c.department, action, operation);
  return c;
}

async function quarantinedFor(ctx: AdminContext, id: string, operation: string): Promise<QuarantineRow> {
  const q = await getQuarantined(ctx.pool, id);
  if (!q) throw new HubError('TL_ERR_NOT_FOUND', `No quarantined record ${id}`);
  await assertDepartment(ctx, q.department as Department, 'quarantine:manage', operation);
  return q;
}

/** Whether a secret setting was sent with a real value (not left out, not the redacted placeholder). */
function hasValue(value: unknown, path: string[]): boolean {
  if (!path.length) return value !== undefined && value !== null && value !== '' && value !== REDACTED;
  if (!value || typeof value !== 'object') return false;
  const [head, ...rest] = path;
  if (head === '*') return Array.isArray(value) && value.some((v) => hasValue(v, rest));
  return hasValue((value as Record<string, unknown>)[head!], rest);
}

function asInput(input: Record<string, unknown>): ConnectorInput {
  return input as unknown as ConnectorInput;
}

/** Top-level settings that differ (secret values are compared but never named with their value). */
function changedFields(before: ConnectorRecord, after: ConnectorRecord, secretsSent: boolean): string[] {
  const fields: string[] = [];
  for (const k of ['name', 'kind', 'config', 'streams', 'mapping', 'schedule', 'paused'] as const) {
    if (JSON.stringify(before[k]) !== JSON.stringify(after[k])) fields.push(k);
  }
  if (secretsSent) fields.push('secrets');
  return fields;
}

export const resolvers: ResolverMap = {
  JSON: JSONScalar,
  Query: {
    connectorKinds: (_: unknown, __: unknown, ctx: AdminContext) => {
      readableDepartments(ctx.identity);
      return listConnectorKinds().map(({ kind, spec }) => ({
        kind, title: spec.title, spec: spec.configSchema, supportsIncremental: spec.supportsIncremental, supportsDeletes: spec.supportsDeletes,
      }));
    },
    connectors: async (_: unknown, args: { department?: Department | null }, ctx: AdminContext) => {
      const allowed = readableDepartments(ctx.identity);
      if (args.department) {
        await assertDepartment(ctx, args.department, 'connectors:read', 'connectors');
        return (await listConnectors(ctx.pool, args.department)).map(connectorView);
      }
      const all = await listConnectors(ctx.pool, null);
      return all.filter((c) => allowed === null || allowed.includes(c.department)).map(connectorView);
    },
    connector: async (_: unknown, args: { id: string }, ctx: AdminContext) => {
      const c = await getConnector(ctx.pool, args.id);
      if (!c) return null;
      await assertDepartment(ctx, c.department, 'connectors:read', 'connector');
      return connectorView(c);
    },
    syncRun: async (_: unknown, args: { id: string }, ctx: AdminContext) => {
      const r = await getRun(ctx.pool, args.id);
      if (!r) return null;
      await connectorFor(ctx, r.connector_id, 'connectors:read', 'syncRun');
      return runView(r);
    },
    quarantine: async (_: unknown, args: { connectorId: string; status?: string | null; first?: number | null; after?: string | null }, ctx: AdminContext) => {
      await connectorFor(ctx, args.connectorId, 'quarantine:manage', 'quarantine');
      const after = args.after ? Number(Buffer.from(args.after, 'base64url').toString()) : undefined;
      const page = await listQuarantined(ctx.pool, args.connectorId, (args.status ?? 'OPEN').toLowerCase() as QuarantineRow['status'], args.first ?? 50, after);
      const edges = page.rows.map((q) => ({ cursor: Buffer.from(String(q.id)).toString('base64url'), node: quarantineView(q) }));
      return { edges, totalCount: page.total, pageInfo: { hasNextPage: page.hasNext, endCursor: edges.at(-1)?.cursor ?? null } };
    },
  },
  Connector: {
    lastRun: async (c: { id: string }, _: unknown, ctx: AdminContext) => {
      const [r] = await listRuns(ctx.pool, c.id, 1);
      return r ? runView(r) : null;
    },
    runs: async (c: { id: string }, args: { first?: number | null }, ctx: AdminContext) =>
      (await listRuns(ctx.pool, c.id, Math.max(1, Math.min(args.first ?? 20, 200)))).map(runView),
    openQuarantined: async (c: { id: string }, _: unknown, ctx: AdminContext) => {
      const { rows } = await ctx.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM hub.quarantine WHERE connector_id = $1 AND status = 'open'`, [c.id]);
      return rows[0]!.n;
    },
  },
  SyncRun: {
    connector: async (r: { connectorId: string }, _: unknown, ctx: AdminContext) => {
      const c = await getConnector(ctx.pool, r.connectorId);
      return c ? connectorView(c) : null;
    },
  },
  Mutation: {
    createConnector: async (_: unknown, args: { input: Record<string, unknown> }, ctx: AdminContext) => {
      const input = asInput(args.input);
      await assertDepartment(ctx, input.department, 'connectors:manage', 'createConnector');
      const c = await createConnector(ctx.pool, input, 'api');
      await ctx.loaders.runtime.queues.schedule(c);
      await recordChange(ctx, 'createConnector', { connectorId: c.id, department: c.department, name: c.name, kind: c.kind }, ['connector']);
      return connectorView(c);
    },
    updateConnector: async (_: unknown, args: { id: string; input: Record<string, unknown> }, ctx: AdminContext) => {
      const before = await connectorFor(ctx, args.id, 'connectors:manage', 'updateConnector');
      const input = asInput(args.input);
      await assertDepartment(ctx, input.department, 'connectors:manage', 'updateConnector');
      const after = await updateConnector(ctx.pool, args.id, input);
      await ctx.loaders.runtime.queues.schedule(after);
      const secretsSent = secretPaths(getConnectorKind(after.kind).spec()).some((p) => hasValue(input.config, p.split('.')));
      await recordChange(ctx, 'updateConnector', { connectorId: after.id, department: after.department, name: after.name }, changedFields(before, after, secretsSent));
      return connectorView(after);
    },
    deleteConnector: async (_: unknown, args: { id: string }, ctx: AdminContext) => {
      const c = await connectorFor(ctx, args.id, 'connectors:manage', 'deleteConnector');
      await ctx.loaders.runtime.queues.unschedule(c);
      const deleted = await deleteConnector(ctx.pool, c.id);
      await recordChange(ctx, 'deleteConnector', { connectorId: c.id, department: c.department, name: c.name }, ['connector']);
      return deleted;
    },
    checkConnector: async (_: unknown, args: { id: string }, ctx: AdminContext) => {
      const c = await connectorFor(ctx, args.id, 'connectors:manage', 'checkConnector');
      const { config } = await connectorSettings(ctx.pool, c.id);
      const result = await getConnectorKind(c.kind).check(config, { connectorId: c.id, pool: ctx.loaders.runtime.syncPool });
      return { ok: result.ok, message: result.message, code: result.code ?? null };
    },
    discoverConnector: async (_: unknown, args: { id: string }, ctx: AdminContext) => {
      const c = await connectorFor(ctx, args.id, 'connectors:manage', 'discoverConnector');
      const { config } = await connectorSettings(ctx.pool, c.id);
      return getConnectorKind(c.kind).discover(config, { connectorId: c.id, pool: ctx.loaders.runtime.syncPool });
    },
    runSync: async (_: unknown, args: { connectorId: string; mode?: SyncMode | null }, ctx: AdminContext) => {
      const c = await connectorFor(ctx, args.connectorId, 'connectors:manage', 'runSync');
      const mode = args.mode ?? 'INCREMENTAL';
      const { run, created } = await ctx.loaders.runtime.queues.runNow(c, mode, 'manual');
      await recordChange(ctx, 'runSync', { connectorId: c.id, department: c.department, mode, runId: run.id, created });
      return runView(run);
    },
    pauseConnector: async (_: unknown, args: { id: string }, ctx: AdminContext) => {
      await connectorFor(ctx, args.id, 'connectors:manage', 'pauseConnector');
      const c = await setPaused(ctx.pool, args.id, true);
      await ctx.loaders.runtime.queues.schedule(c);
      await recordChange(ctx, 'pauseConnector', { connectorId: c.id, department: c.department }, ['paused']);
      return connectorView(c);
    },
    resumeConnector: async (_: unknown, args: { id: string }, ctx: AdminContext) => {
      await connectorFor(ctx, args.id, 'connectors:manage', 'resumeConnector');
      const c = await setPaused(ctx.pool, args.id, false);
      await ctx.loaders.runtime.queues.schedule(c);
      await recordChange(ctx, 'resumeConnector', { connectorId: c.id, department: c.department }, ['paused']);
      return connectorView(c);
    },
    correctQuarantined: async (_: unknown, args: { id: string; payload: unknown }, ctx: AdminContext) => {
      const q = await quarantinedFor(ctx, args.id, 'correctQuarantined');
      const row = await correctQuarantined(ctx.pool, q.id, args.payload);
      await recordChange(ctx, 'correctQuarantined', { quarantineId: q.id, connectorId: q.connector_id, department: q.department, recordKey: q.record_key }, ['payload']);
      return quarantineView(row);
    },
    replayQuarantined: async (_: unknown, args: { id: string }, ctx: AdminContext) => {
      const q = await quarantinedFor(ctx, args.id, 'replayQuarantined');
      const row = await replayQuarantined(ctx.loaders.runtime.syncPool, q.id, ctx.identity.sub, ctx.loaders.runtime.linker);
      await recordChange(ctx, 'replayQuarantined', { quarantineId: q.id, connectorId: q.connector_id, department: q.department, recordKey: row.record_key, result: row.status });
      return quarantineView(row);
    },
    discardQuarantined: async (_: unknown, args: { id: string; reason?: string | null }, ctx: AdminContext) => {
      const q = await quarantinedFor(ctx, args.id, 'discardQuarantined');
      const row = await discardQuarantined(ctx.pool, q.id, ctx.identity.sub, args.reason);
      await recordChange(ctx, 'discardQuarantined', { quarantineId: q.id, connectorId: q.connector_id, department: q.department, recordKey: q.record_key, reason: args.reason ?? null });
      return quarantineView(row);
    },
  },
};
