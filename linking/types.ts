import type { Department } from '../domain/departments';

/**
 * What the sync pipeline's merge step hands to linking, and what it gets back. Linking resolves every person
 * and address a department record mentions to `core.persons` / `core.places`, inside the batch's transaction.
 */
export interface PersonMention {
  /** Unique within the batch, e.g. `${recordId}#party:0`. */
  ref: string;
  department: Department;
  sourceTable: string;   // e.g. 'civil.subsidies'
  recordId: string;      // the department row's id
  /** Which person of the record this is, when a record mentions several (e.g. 'party:0'). Default: the part
   *  of `ref` after '#', or '' when `ref` has none. Links are keyed by (sourceTable, recordId, mentionKey). */
  mentionKey?: string;
  recordKey: string;     // the source system's key
  connectorId: string;
  /**
   * The record was created by this batch (sync: a department row inserted with a new id): it cannot have a link
   * yet, so the existing-link check skips it. Only for a record whose id is new; a record that may have been linked
   * before must not carry it (its link would be looked for in vain and a second person made for it).
   */
  newRecord?: boolean;
  idNumber?: string | null;   // as the source wrote it (normalised by linking)
  name?: string | null;
  sex?: 'M' | 'F' | null;
  birthDate?: string | null;  // YYYY-MM-DD
  phone?: string | null;
  address?: string | null;
  /** The record's group in its source system, when it has one: the assistance family (household_no) of a
   *  subsidy or family member, the care station of a care service. Same name in the same group is evidence
   *  (the only evidence a record with a name and nothing else has). Write households as
   *  '<DEPT>:household:<no>' (e.g. 'CIVIL_AFFAIRS:household:1234'): within a household the name alone
   *  decides; within any other group ('CIVIL_AFFAIRS:care:<station>') only when no other registered person
   *  bears the name. */
  groupKey?: string | null;
}

export interface PersonLink {
  ref: string;
  personId: string;
  method: 'id_number' | 'scored' | 'review' | 'manual' | 'new';
  score: number;
  evidence: Record<string, unknown>;
  created: boolean;  // a new core person was made for it
}

export interface PlaceMention {
  ref: string;
  address: string;
  lon?: number | null;
  lat?: number | null;
}

export interface PlaceLink {
  ref: string;
  placeId: string | null;    // null only for an empty address; an address that does not parse is kept as a
                             // place with parse_status 'unparsed' and its reason (parse_error, `reason`)
  gridCode: string | null;   // a 15-digit grid, or the community/street/district code when the grid is unknown
  status: 'parsed' | 'partial' | 'unparsed';
  reason?: string;
}
