import type { ErrorCode } from '../platform/errors';
import type { Logger } from '../platform/logger';

/**
 * The connector contract, shaped like the Airbyte protocol: a kind is a module with `spec`, `check`,
 * `discover` and `read`. `read` yields records and state checkpoints; the platform (sync/) commits a state
 * only after the records before it are written, in the same transaction, so a crash re-reads from the last
 * committed state and the merge makes the replay harmless.
 */
export type JsonSchema = Record<string, unknown>;

export interface ConnectorSpec {
  kind: string;
  title: string;
  /** JSON Schema of the configuration. Secret properties carry `"x-secret": true`: stored encrypted, never returned or logged. */
  configSchema: JsonSchema;
  supportsIncremental: boolean;
  /** The source can report deletions itself; otherwise the platform reconciles keys on full refresh. */
  supportsDeletes: boolean;
}

export interface ColumnInfo {
  name: string;
  type: string;      // the source's own type name
  nullable?: boolean;
}

export interface StreamInfo {
  name: string;
  columns: ColumnInfo[];
  primaryKey: string[];
  /** Columns that can serve as an incremental cursor (an update time, a monotonically growing id). */
  cursorCandidates: string[];
}

export interface CheckResult {
  ok: boolean;
  message: string;
  /** On failure: TL_ERR_CONNECTOR_CONFIG / _AUTH (do not retry) or _TRANSIENT. */
  code?: ErrorCode;
}

/** A stream as configured on a connector. */
export interface StreamConfig {
  name: string;
  primaryKey: string[];
  cursorField?: string;
  /** Seconds to re-read behind the cursor, for sources whose clocks or commits lag. */
  lookbackSeconds?: number;
}

/**
 * A source row the connector could not read cleanly (wrong column count, undecodable bytes, not a JSON object).
 * It is still emitted, never dropped: the platform quarantines it with this reason and its raw payload.
 */
export interface RecordError {
  reason: string;
  /** The offending column or field, when one can be named. */
  field?: string;
  /** The raw source text of the row, when the data could not be parsed into fields. */
  raw?: string;
}

export type ReadMessage =
  | {
      type: 'record';
      stream: string;
      data: Record<string, unknown>;
      /** Set on a bad row: the pipeline quarantines it instead of loading it. */
      error?: RecordError;
      /** Where the record came from (file name and line, push batch id …), for quarantine and provenance. */
      meta?: Record<string, unknown>;
    }
  | { type: 'state'; stream: string; state: unknown }
  | { type: 'log'; level: 'info' | 'warn'; message: string };

export interface ReadOptions {
  stream: StreamConfig;
  mode: 'INCREMENTAL' | 'FULL_REFRESH';
  /** The last committed state of this stream, or null for a first / full read. */
  state: unknown;
  signal?: AbortSignal;
  log?: Logger;
  /** What a kind may need from the hub itself (the push kind reads batches stored in the hub's database). */
  context?: ConnectorContext;
}

/**
 * The hub-side context of a configured connector. Optional everywhere: only kinds that keep data in the hub
 * (push) need it; the registry's `setConnectorRuntime` supplies a default pool.
 */
export interface ConnectorContext {
  connectorId?: string;
  /** The hub's own PostgreSQL pool (schema `hub`). */
  pool?: import('../platform/db').Pool;
}

export interface ConnectorKind<C = Record<string, unknown>> {
  spec(): ConnectorSpec;
  /** Never throws for a bad configuration or source: answers `{ok: false, code, message}`. */
  check(config: C, context?: ConnectorContext): Promise<CheckResult>;
  discover(config: C, context?: ConnectorContext): Promise<StreamInfo[]>;
  read(config: C, options: ReadOptions): AsyncIterable<ReadMessage>;
}
