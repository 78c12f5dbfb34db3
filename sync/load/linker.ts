import type { PoolClient } from '../../platform/db';
import { linkBatch, type BatchLinks, type LinkPersonsOptions } from '../../linking';
import type { PersonMention, PlaceMention } from '../../linking/types';

/**
 * Linking as the merge step sees it: resolve the places and persons of a batch inside the batch's transaction,
 * the persons' residences taken from the batch's places. The hub's linker is `linking/` (linkBatch); a caller may
 * pass `null` to load without linking (the benchmark measures both).
 */
export interface Linker {
  /** Places and persons of one batch (linking/index.ts linkBatch). */
  linkBatch(client: PoolClient, places: PlaceMention[], persons: PersonMention[], options?: Omit<LinkPersonsOptions, 'linkedPlaces'>): Promise<BatchLinks>;
}

export const hubLinker: Linker = { linkBatch };
