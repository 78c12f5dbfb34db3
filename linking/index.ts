/**
 * Linking: resolves the persons and addresses department records mention to `core.persons` / `core.places`.
 * Called by the sync pipeline's merge step inside the batch's transaction. Method and figures: docs/linking.md.
 * The two are independent: call them in either order within the batch's transaction.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { PoolClient, Queryable } from '../platform/db';
import { connectAtOnce, inTransactionBeside, type BesidePool } from './beside';
import { loadGazetteer } from './gazetteer';
import { takeLinkingLock } from './linking-lock';
import { normaliseThread } from './normalise-thread';
import {
  linkPersons as linkPersonMentions, prepareBatch, type Residence,
} from './person-linking';
import { linkPlaces as linkPlaceMentions, parseWithCache, placeKeyFor } from './place-linking';
import type { PersonLink, PersonMention, PlaceLink, PlaceMention } from './types';

export type { PersonLink, PersonMention, PlaceLink, PlaceMention } from './types';

export interface LinkPersonsOptions {
  /**
   * Addresses of this batch already linked as places in this transaction (linkPlaces' results, by address text:
   * placesByAddress): a person's residence is then that place, without linking the address a second time. Other
   * addresses are linked as before. A promise (linkBatch) is awaited only when residences are decided, after the
   * persons' reads and scoring.
   */
  linkedPlaces?: ReadonlyMap<string, PlaceLink> | PromiseLike<ReadonlyMap<string, PlaceLink>>;
  /**
   * A pool of connections beside the batch's own (linking/beside.ts): the key tables (derived data) are then written
   * on one of them in parallel with the batch's writes (person-linking.ts, writeKeysAside), and linkBatch links the
   * batch's places on one (linkPlacesBeside). Any pool with free connections: one is used only if it is free at once.
   */
  besidePool?: BesidePool;
  /** See PersonLinkOptions.writesAfter (person-linking.ts): linkBatch's places, settled. */
  writesAfter?: PromiseLike<unknown>;
}

export async function linkPersons(client: PoolClient, mentions: PersonMention[], options: LinkPersonsOptions = {}): Promise<PersonLink[]> {
  if (!mentions.length) return [];
  const g = mentions.some((m) => m.address) ? await loadGazetteer(client) : undefined;
  return linkPersonMentions(client, mentions, {
    ...(options.besidePool ? { besidePool: options.besidePool } : {}),
    ...(options.writesAfter ? { writesAfter: options.writesAfter } : {}),
    placeKeyOf: (address) => (g ? placeKeyFor(address, g) : null),
    // A person's residence: the place of an address their records give (docs/linking.md, Residence). New persons
    // are written with it; known persons without one are updated.
    residencesOf: g ? async (addresses) => {
      const linked = await options.linkedPlaces;
      const out = new Map<string, Residence>();
      const rest: string[] = [];
      for (const a of addresses) {
        const p = linked?.get(a);
        if (p) out.set(a, { placeId: p.placeId!, gridCode: p.gridCode }); else rest.push(a);
      }
      if (!rest.length) return out;
      const places = await linkPlaceMentions(client, rest.map((a) => ({ ref: a, address: a })), g);
      for (const p of places) if (p.placeId && p.status !== 'unparsed') out.set(p.ref, { placeId: p.placeId, gridCode: p.gridCode });
      return out;
    } : undefined,
  });
}

/**
 * linkPlaces' results by address text, for linkPersons' `linkedPlaces`: the addresses that resolved to a place
 * (not 'unparsed'), the first link of each address.
 */
export function placesByAddress(mentions: readonly PlaceMention[], links: readonly PlaceLink[]): Map<string, PlaceLink> {
  const out = new Map<string, PlaceLink>();
  links.forEach((l, i) => {
    const address = mentions[i]?.address;
    if (address != null && l.placeId && l.status !== 'unparsed' && !out.has(String(address))) out.set(String(address), l);
  });
  return out;
}

/**
 * Places are linked under the linking lock, as persons are: a batch that wrote new places and then waited for the
 * lock (to link its persons) could hold a place the lock holder was inserting too, each waiting on the other (a
 * deadlock, seen with concurrent sync runs once the merge step linked places first).
 */
export async function linkPlaces(client: PoolClient, mentions: PlaceMention[]): Promise<PlaceLink[]> {
  if (!mentions.length) return [];
  await takeLinkingLock(client);
  return linkPlaceMentions(client, mentions);
}

export interface BatchLinks { places: PlaceLink[]; persons: PersonLink[] }

/**
 * A batch's addresses and persons, linked together in the batch's transaction (the sync merge step, the
 * evaluation): the persons' residences take the places the batch's addresses were linked to (linkedPlaces), and
 * the two run at once. Only the residences wait for the places.
 *
 * With a pool (`besidePool`), the places are linked beside the batch (linkPlacesBeside): on a connection and in a
 * transaction of their own, committed before the persons that live there are written, while the batch's
 * connection takes the linking lock and reads and scores the persons. Without one, or when that fails, they are
 * linked on the batch's connection, overlapped with person linking (node-postgres queues the statements): person
 * linking's lock, reads and scoring are sent while place linking's statements run. Place statements may then run
 * under person linking's index-probe planner settings (SET LOCAL, person-linking.ts): each of them is written as
 * index look-ups (resolveRegister's three, not one OR-ed WHERE).
 *
 * Both are awaited before this returns or throws (the first failure: place linking's, when both failed), so no
 * statement of either is still to be sent when the caller commits or rolls back.
 */
export async function linkBatch(client: PoolClient, places: PlaceMention[], persons: PersonMention[],
  options: Omit<LinkPersonsOptions, 'linkedPlaces' | 'writesAfter'> = {}): Promise<BatchLinks> {
  const placesDone = options.besidePool && places.length ? linkPlacesBeside(client, options.besidePool, places) : linkPlaces(client, places);
  const linkedPlaces = placesDone.then((links) => placesByAddress(places, links));
  linkedPlaces.catch(() => undefined); // a failure is reported through placesDone
  // The persons' writes wait for the places (settled either way): when those run on this connection, a savepoint of
  // theirs must not nest with the writes' (whose fall-back awaits between its savepoints and their release).
  const writesAfter = placesDone.then(() => undefined, () => undefined);
  const personsDone = linkPersons(client, persons, { ...options, linkedPlaces, writesAfter });
  const [p, q] = await Promise.allSettled([placesDone, personsDone]);
  if (p.status === 'rejected') throw p.reason;
  if (q.status === 'rejected') throw q.reason;
  return { places: p.value, persons: q.value };
}

/**
 * Places linked beside the batch (linking/beside.ts): a place is a shared row keyed by its normalised address,
 * written by an upsert that only ever makes it more precise (a longer grid code, a first point, a register
 * building), so committing it without the batch is safe: should the batch roll back, the place stays, unreferenced,
 * and its replay finds it. It takes no linking lock (its transaction never waits for one, so it cannot hold a place
 * a lock holder needs while waiting on that holder), and writes new places in key order, as every place writer
 * does. When no connection is free at once, or the work beside fails (a lock wait past the timeout, a deadlock
 * the database broke, a lost connection), the places are linked in the batch as before; an error in the mentions
 * themselves then recurs there and is reported.
 */
async function linkPlacesBeside(client: PoolClient, pool: BesidePool, mentions: PlaceMention[]): Promise<PlaceLink[]> {
  const side = await connectAtOnce(pool);
  if (side) {
    try {
      return await inTransactionBeside(side, (c) => linkPlaceMentions(c, mentions));
    } catch {
      // Linked in the batch instead (below).
    }
  }
  return linkPlaces(client, mentions);
}

/**
 * Optional, for pipelines: normalises a coming batch's mentions (address parsing here, ID numbers, pinyin and
 * blocking keys on the linking thread) while the current batch's statements run, so that this process's work
 * overlaps the database's. It only
 * fills per-process caches that linkPersons / linkPlaces consult (keyed by everything the result is computed
 * from), so calling it or not changes no link; it works in small slices and yields to the event loop between
 * them, so the current batch's replies are not held up for long. Start it, unawaited, before linking the current
 * batch, and await it before the next: `const ahead = prepareMentions(pool, next.persons, next.places); await
 * link(current); await ahead;`. `db` is used for one query (whether core.grids changed), not inside a transaction.
 */
export async function prepareMentions(db: Queryable, persons: PersonMention[], places: PlaceMention[] = []): Promise<void> {
  if (!persons.length && !places.length) return;
  const g = await loadGazetteer(db);
  const slice = 50;
  for (let i = 0; i < places.length; i += slice) {
    for (const p of places.slice(i, i + slice)) if (p.address != null && String(p.address).trim()) parseWithCache(String(p.address), g);
    await nextTurn();
  }
  const placeKeys: Array<string | null> = [];
  for (let i = 0; i < persons.length; i += slice) {
    for (const m of persons.slice(i, i + slice)) placeKeys.push(m.address ? placeKeyFor(m.address, g) : null);
    await nextTurn();
  }
  // The persons' features and keys: on the linking thread (many mentions), or here in slices.
  await prepareBatch(persons, placeKeys);
}

/**
 * Starts the linking thread (linking/normalise-thread.ts) ahead of the first batch, as the division table is
 * loaded ahead: a process that links calls it when it starts. Settles when the thread answers (false: it cannot be
 * used, and batches normalise their mentions themselves). Linking works without it.
 */
export function startLinkingThread(): Promise<boolean> {
  return normaliseThread.ready();
}

