import type { PoolClient, Queryable } from '../../platform/db';
import { linkBatch, prepareMentions, type BatchLinks, type LinkPersonsOptions } from '../../linking';
import type { PersonMention, PlaceMention } from '../../linking/types';

/**
 * Linking as the merge step sees it: resolve the places and persons of a batch inside the batch's transaction,
 * the persons' residences taken from the batch's places. The hub's linker is `linking/` (linkBatch); a caller may
 * pass `null` to load without linking (the benchmark measures both).
 */
export interface Linker {
  /** Places and persons of one batch (linking/index.ts linkBatch). */
  linkBatch(client: PoolClient, places: PlaceMention[], persons: PersonMention[], options?: Omit<LinkPersonsOptions, 'linkedPlaces'>): Promise<BatchLinks>;
  /**
   * Optional: normalises a coming batch's mentions while the batch before is written (linking/index.ts
   * prepareMentions); linkBatch then takes the results for these same mention objects. Changes no link.
   */
  prepare?(db: Queryable, persons: PersonMention[], places: PlaceMention[]): Promise<void>;
}

export const hubLinker: Linker = { linkBatch, prepare: prepareMentions };
