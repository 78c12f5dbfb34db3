import type { DateFormat } from './dates';

/**
 * The declarative mapping of a connector: how each source stream becomes rows of one department table, which
 * persons and addresses those rows mention (for linking), and how event-like rows project into core.events.
 * It is JSON, stored on the connector and validated against MAPPING_SCHEMA (mapping-schema.ts) when the
 * connector is created or updated. Reference: docs/sync.md, "Mapping DSL".
 */
export interface Mapping {
  version: 1;
  /** Code tables of this connector, by name (department status codes → the hub's), beside the built-in ones. */
  codeTables?: Record<string, Record<string, string | null>>;
  /** Time zone of wall-clock times without a zone (default Asia/Shanghai). */
  timezone?: string;
  /** One entry per source stream, by stream name. */
  streams: Record<string, StreamMapping>;
}

/** A field: a source column name (shorthand) or a full spec. */
export type FieldMapping = string | FieldSpec;

export interface FieldSpec {
  /** Source column (dotted path into nested objects allowed); an array takes the first non-empty one. */
  from?: string | string[];
  /** A constant value instead of a source column. */
  const?: unknown;
  /** `{col}` placeholders filled from source columns, e.g. `"{district}{street}{doorplate}"`. */
  template?: string;
  /** Value used when the source value is empty. */
  default?: unknown;
  /** Trim white space, ideographic space and zero-width characters (default true). */
  trim?: boolean;
  /** Full-width ASCII → half-width (default true for codes, numbers, dates, ID numbers; false for text). */
  halfWidth?: boolean;
  /** An empty string counts as no value (default true). */
  emptyAsNull?: boolean;
  case?: 'upper' | 'lower';
  /** A code table: built-in name (`gbt2261_sex`), a name under `codeTables`, or an inline table. */
  codes?: string | Record<string, string | null>;
  /** What an unknown code does: fail the record (default), become null, or pass through unchanged. */
  unknownCode?: 'error' | 'null' | 'keep';
  /** Date/time formats tried in order (default ['auto']). */
  format?: DateFormat | DateFormat[];
  timezone?: string;
  /** Normalise and validate as a 公民身份号码; the raw value goes to `rawField` (default `<field>_raw` if the table has it). */
  idNumber?: boolean;
  rawField?: string;
  /** An invalid ID number fails the record (default) or is kept only in the raw column ('null'). */
  invalidIdNumber?: 'error' | 'null';
  required?: boolean;
  enum?: string[];
  pattern?: string;
  maxLength?: number;
  min?: number;
  max?: number;
  /** For jsonb array fields: each source element mapped by these fields. */
  items?: Record<string, FieldMapping>;
  /**
   * For jsonb array fields built from flat columns: one object per entry, each field mapped from the record
   * itself (e.g. applicant and respondent columns of a mediation export → two parties). An object whose
   * mapped values are all empty (constants aside) is left out.
   */
  objects?: Record<string, FieldMapping>[];
}

/** A person mentioned by a row, by the mapped fields that describe them. */
export interface PersonMentionSpec {
  idNumber?: string;
  name?: string;
  sex?: string;
  birthDate?: string;
  phone?: string;
  address?: string;
  /** Column of the department table that receives the linked person id (default person_id). */
  target?: string;
  /** Role in the projected event (e.g. petitioner). */
  role?: string;
}

export interface EventProjection {
  /** core.events.kind: police_incident, mediation_case, petition ... */
  kind: string;
  /** Mapped field holding the title, or a `{field}` template over mapped fields. */
  title: string;
  occurredAt: string;
  closedAt?: string;
  /** Mapped field holding the category code, and an optional table onto core.event_categories codes. */
  category?: { field: string; codes?: string | Record<string, string | null>; default?: string };
  /** Mapped field holding the (department's) status, and the table onto the closed loop. */
  status: { field?: string; codes?: string | Record<string, string | null>; default?: string };
  level?: { field?: string; codes?: string | Record<string, string | null>; const?: string };
  severity?: { field?: string; codes?: string | Record<string, string | null>; const?: string };
}

export interface StreamMapping {
  /** The department table, `schema.table`, e.g. `police.incidents`. */
  target: string;
  /** Source columns forming the record key (default: the stream's primary key). */
  key?: string[];
  /** Source column with the source's change time → `_source_updated_at`. */
  updatedAt?: string | FieldSpec;
  fields: Record<string, FieldMapping>;
  /** Persons the row itself describes (linked; the id goes to `target`). */
  persons?: PersonMentionSpec[];
  /** A jsonb array field of parties `{name, idNumber, sex, birthDate, phone, role}`, each linked. */
  parties?: { field: string; defaultRole?: string };
  /** The mapped field with the row's address (linked to a place and its grid). */
  place?: { address: string };
  event?: EventProjection;
}

export interface FieldError {
  field: string;
  reason: string;
  value?: unknown;
}

/** The result of mapping one source record. */
export type MappedRecord =
  | { ok: true; key: string; values: Record<string, unknown>; sourceUpdatedAt: string | null }
  | { ok: false; key: string | null; errors: FieldError[] };
