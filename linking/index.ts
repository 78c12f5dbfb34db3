/**
 * Linking: resolves the persons and addresses department records mention to `core.persons` / `core.places`.
 * Called by the sync pipeline's merge step inside the batch's transaction. Method and figures: docs/linking.md.
 * The two are independent: call them in either order within the batch's transaction.
 */
import type { PoolClient } from '../platform/db';
import { loadGazetteer } from './gazetteer';
import { linkPersons as linkPersonMentions } from './person-linking';
import { linkPlaces as linkPlaceMentions, placeKeyFor, setResidences } from './place-linking';
import type { PersonLink, PersonMention, PlaceLink, PlaceMention } from './types';

export type { PersonLink, PersonMention, PlaceLink, PlaceMention } from './types';

export async function linkPersons(client: PoolClient, mentions: PersonMention[]): Promise<PersonLink[]> {
  if (!mentions.length) return [];
  const g = mentions.some((m) => m.address) ? await loadGazetteer(client) : undefined;
  const links = await linkPersonMentions(client, mentions, { placeKeyOf: (address) => (g ? placeKeyFor(address, g) : null) });
  // A person's residence: the place of an address their records give (persons are made without one).
  if (g) {
    const byRef = new Map(mentions.map((m) => [m.ref, m]));
    await setResidences(client, links.map((l) => ({ personId: l.personId, address: byRef.get(l.ref)?.address })));
  }
  return links;
}

export function linkPlaces(client: PoolClient, mentions: PlaceMention[]): Promise<PlaceLink[]> {
  return linkPlaceMentions(client, mentions);
}
