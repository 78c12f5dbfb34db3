import type { PoolClient } from '../../platform/db';
import { linkBatch, linkPersons, linkPlaces, type BatchLinks, type LinkPersonsOptions } from '../../linking';
import type { PersonLink, PersonMention, PlaceLink, PlaceMention } from '../../linking/types';

/**
 * Linking as the merge step sees it: resolve the persons and addresses of a batch inside the batch's
 * transaction. The hub's linker is `linking/` (linkPersons / linkPlaces); a caller may pass `null` to load
 * without linking (the benchmark measures both).
 */
export interface Linker {
  linkPersons(client: PoolClient, mentions: PersonMention[], options?: LinkPersonsOptions): Promise<PersonLink[]>;
  linkPlaces(client: PoolClient, mentions: PlaceMention[]): Promise<PlaceLink[]>;
  /** Both for one batch, overlapped, residences from the batch's places (linking/index.ts linkBatch). */
  linkBatch(client: PoolClient, places: PlaceMention[], persons: PersonMention[], options?: Omit<LinkPersonsOptions, 'linkedPlaces'>): Promise<BatchLinks>;
}

export const hubLinker: Linker = { linkPersons, linkPlaces, linkBatch };
