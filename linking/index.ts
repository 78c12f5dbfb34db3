/**
 * Linking: resolves the persons and addresses department records mention to `core.persons` / `core.places`.
 * Called by the sync pipeline's merge step inside the batch's transaction. Method and figures: docs/linking.md.
 */
import type { PoolClient } from '../platform/db';
import { linkPersons as linkPersonMentions } from './person-linking';
import { rawAddressKey } from './address-key';
import { linkPlaces as linkPlaceMentions } from './place-linking';
import type { PersonLink, PersonMention, PlaceLink, PlaceMention } from './types';

export type { PersonLink, PersonMention, PlaceLink, PlaceMention } from './types';

export function linkPersons(client: PoolClient, mentions: PersonMention[]): Promise<PersonLink[]> {
  return linkPersonMentions(client, mentions, { placeKeyOf: rawAddressKey });
}

export function linkPlaces(client: PoolClient, mentions: PlaceMention[]): Promise<PlaceLink[]> {
  return linkPlaceMentions(client, mentions);
}
