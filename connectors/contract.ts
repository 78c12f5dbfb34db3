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

export type ReadMessage =
  | { type: 'record'; stream: string; data: Record<string, unknown> }
  | { type: 'state'; stream: string; state: unknown }
  | { type: 'log'; level: 'info' | 'warn'; message: string };

export interface ReadOptions {
  stream: StreamConfig;
  mode: 'INCREMENTAL' | 'FULL_REFRESH';
  /** The last committed state of this stream, or null for a first / full read. */
  state: unknown;
  signal?: AbortSignal;
  log?: Logger;
}

export interface ConnectorKind<C = Record<string, unknown>> {
  spec(): ConnectorSpec;
  check(config: C): Promise<CheckResult>;
  discover(config: C): Promise<StreamInfo[]>;
  read(config: C, options: ReadOptions): AsyncIterable<ReadMessage>;
}
