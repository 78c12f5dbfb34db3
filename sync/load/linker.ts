import type { PoolClient, Queryable } from '../../platform/db';
import { linkPersons, linkPlaces, prepareMentions } from '../../linking';
import type { PersonLink, PersonMention, PlaceLink, PlaceMention } from '../../linking/types';

/**
 * Linking as the merge step sees it: resolve the persons and addresses of a batch inside the batch's
 * transaction. The hub's linker is `linking/` (linkPersons / linkPlaces); a caller may pass `null` to load
 * without linking (the benchmark measures both).
 */
export interface Linker {
  linkPersons(client: PoolClient, mentions: PersonMention[]): Promise<PersonLink[]>;
  linkPlaces(client: PoolClient, mentions: PlaceMention[]): Promise<PlaceLink[]>;
  /**
   * Optional: normalise a coming batch's mentions while the current batch is written (process-local caches
   * only; it changes no link). `db` is outside the batch's transaction. The pipeline starts it for batch N+1
   * before it waits for batch N, so the process works while the database does.
   */
  prepare?(db: Queryable, persons: PersonMention[], places: PlaceMention[]): Promise<void>;
}

export const hubLinker: Linker = { linkPersons, linkPlaces, prepare: prepareMentions };
