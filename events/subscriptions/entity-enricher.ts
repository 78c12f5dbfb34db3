import { createHash } from 'node:crypto';
import DataLoader from 'dataloader';
import type { DocumentNode, ExecutionResult } from 'graphql';
import type { Logger } from '../../platform/logger';
import type { Identity } from '../../security/identity';
import { buildEntityQuery, type EntityRef, type EntitySelection } from './entity-query';

/** Runs an operation through the gateway's own query path as `identity` (masking, scope and audit applied). */
export type ExecuteAs = (request: { document: DocumentNode; variables: Record<string, unknown>; identity: Identity }) => Promise<ExecutionResult>;

interface Group {
  loader: DataLoader<string, unknown>;
  users: number;
  inflight: number;
  /** Batches waiting for the group's request in flight to return. */
  waiting: Array<() => void>;
}

export interface EntityLoader {
  load(entityType: string, entityId: string): Promise<unknown>;
  release(): void;
}

/**
 * Batches entity look-ups across events AND across subscribers: subscribers with the same identity and the
 * same selection share one DataLoader, and the feed hands a batch of events to every subscription in one
 * synchronous pass, so one dispatch costs one federated request per distinct (identity, selection), however
 * many events and subscribers it carries. A DataLoader caches nothing here (an entity changes between events).
 *
 * Under load the batches grow by themselves: a group has at most one federated request in flight; events
 * arriving meanwhile wait in the group's next batch, which goes out when the request returns. At a trickle a
 * request carries one event (no added latency); at a flood one request carries many.
 */
export class EntityEnricher {
  private readonly groups = new Map<string, Group>();
  /** Federated requests made (tests and the benchmark read it). */
  requests = 0;

  constructor(private readonly execute: ExecuteAs, private readonly log: Logger, private readonly maxBatchSize = 100) {}

  acquire(identity: Identity, selection: EntitySelection): EntityLoader {
    const key = createHash('sha256').update(JSON.stringify([identity, selection.key])).digest('base64url');
    let group = this.groups.get(key);
    if (!group) {
      const g: Group = { users: 0, inflight: 0, waiting: [], loader: undefined as unknown as DataLoader<string, unknown> };
      g.loader = new DataLoader<string, unknown>(async (keys) => {
        g.inflight += 1;
        try {
          return await this.fetch(identity, selection, keys);
        } finally {
          g.inflight -= 1;
          g.waiting.shift()?.();
        }
      }, {
        cache: false,
        maxBatchSize: this.maxBatchSize,
        batchScheduleFn: (dispatch) => {
          if (g.inflight === 0 && g.waiting.length === 0) setImmediate(dispatch);
          else g.waiting.push(dispatch);
        },
      });
      group = g;
      this.groups.set(key, group);
    }
    group.users += 1;
    const g = group;
    let released = false;
    return {
      load: (entityType, entityId) => g.loader.load(`${entityType}/${entityId}`),
      release: () => {
        if (released) return;
        released = true;
        g.users -= 1;
        if (g.users === 0) this.groups.delete(key);
      },
    };
  }

  private async fetch(identity: Identity, selection: EntitySelection, keys: readonly string[]): Promise<unknown[]> {
    const refs: EntityRef[] = keys.map((key) => {
      const slash = key.indexOf('/');
      return { entityType: key.slice(0, slash), entityId: key.slice(slash + 1) };
    });
    const query = buildEntityQuery(selection, refs);
    if (!query) return keys.map(() => null);
    this.requests += 1;
    let result: ExecutionResult;
    try {
      result = await this.execute({ document: query.document, variables: query.variables, identity });
    } catch (err) {
      this.log.warn({ err: (err as Error).message, entities: refs.length }, 'entity enrichment failed; entities delivered as null');
      return keys.map(() => null);
    }
    if (result.errors?.length) {
      this.log.debug({ errors: result.errors.map((e) => e.message) }, 'entity enrichment returned errors');
    }
    const data = (result.data ?? {}) as Record<string, unknown>;
    return keys.map((key) => {
      const alias = query.aliasOf.get(key);
      return alias ? data[alias] ?? null : null;
    });
  }
}
