import { createHash } from 'node:crypto';
import DataLoader from 'dataloader';
import type { DocumentNode, ExecutionResult } from 'graphql';
import type { Logger } from '../../platform/logger';
import type { Identity } from '../../security/identity';
import { buildEntityQuery, queryVariables, type EntityRef, type EntitySelection } from './entity-query';

/** Runs an operation through the gateway's own query path as `identity` (masking, scope and audit applied). */
export type ExecuteAs = (request: { document: DocumentNode; variables: Record<string, unknown>; identity: Identity }) => Promise<ExecutionResult>;

export interface EntityLoader {
  load(entityType: string, entityId: string): Promise<unknown>;
  release(): void;
}

/**
 * Batches entity look-ups across events AND across subscribers: subscribers with the same identity and the
 * same selection share one DataLoader, and the feed hands a batch of events to every subscription in one
 * synchronous pass, so one dispatch costs one federated request per distinct (identity, selection), however
 * many events and subscribers it carries. A DataLoader caches nothing here (an entity changes between events).
 */
export class EntityEnricher {
  private readonly groups = new Map<string, { loader: DataLoader<string, unknown>; users: number }>();
  /** Federated requests made (tests and the benchmark read it). */
  requests = 0;

  constructor(private readonly execute: ExecuteAs, private readonly log: Logger, private readonly maxBatchSize = 100) {}

  acquire(identity: Identity, selection: EntitySelection): EntityLoader {
    const key = createHash('sha256').update(JSON.stringify([identity, selection.key])).digest('base64url');
    let group = this.groups.get(key);
    if (!group) {
      group = {
        loader: new DataLoader<string, unknown>((keys) => this.fetch(identity, selection, keys), { cache: false, maxBatchSize: this.maxBatchSize }),
        users: 0,
      };
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
    const aliases = new Map<string, string>();
    const refs: EntityRef[] = [];
    for (const key of keys) {
      if (aliases.has(key)) continue;
      const [entityType, entityId] = key.split('/') as [string, string];
      const alias = `e${refs.length}`;
      aliases.set(key, alias);
      refs.push({ alias, entityType, entityId });
    }
    const document = buildEntityQuery(selection, refs);
    if (!document) return keys.map(() => null);
    this.requests += 1;
    let result: ExecutionResult;
    try {
      result = await this.execute({ document, variables: queryVariables(selection, document), identity });
    } catch (err) {
      this.log.warn({ err: (err as Error).message, entities: refs.length }, 'entity enrichment failed; entities delivered as null');
      return keys.map(() => null);
    }
    if (result.errors?.length) {
      this.log.debug({ errors: result.errors.map((e) => e.message) }, 'entity enrichment returned errors');
    }
    const data = (result.data ?? {}) as Record<string, unknown>;
    return keys.map((key) => data[aliases.get(key)!] ?? null);
  }
}
