import type { Normalised, SourceList } from './person-normalise';
import { sameSourceAt } from './person-normalise';
import type { PersonMention } from './types';

/**
 * Mentions normalised ahead of their batch (prepareMentions in linking/index.ts), kept by batch: the mention list as
 * given, the sources the results were computed from (one flat list) and the results. A batch's linking takes a
 * mention's result only while the mention still holds what it was computed from (the same object, the same seven
 * values), and takes each once. Nothing is kept beyond the last few batches prepared: a cache of every mention seen
 * (tens of megabytes of features and keys) made the garbage collector copy and mark it again and again, and a map
 * entry or a source array per mention (as before round 17) was itself a good part of what a scavenge copied.
 */
interface PreparedBatch {
  mentions: readonly PersonMention[];
  sources: SourceList;
  results: Array<Normalised | undefined>;
  /** Results not taken yet. */
  left: number;
  /** Mention → position, made only when a mention is not found at its own position. */
  positions?: Map<PersonMention, number>;
}

/** Batches prepared and not wholly taken, oldest first: a pipeline prepares one or two ahead. */
const batches: PreparedBatch[] = [];
const MAX_BATCHES = 4;

export function rememberPrepared(mentions: readonly PersonMention[], sources: SourceList, results: Normalised[]): void {
  if (!mentions.length) return;
  batches.push({ mentions: [...mentions], sources, results, left: mentions.length });
  // A batch prepared and never linked (a failed run) is forgotten once newer ones come.
  if (batches.length > MAX_BATCHES) batches.shift();
}

/**
 * The result prepared for `m` (at position `i` of the batch being linked, usually its position when prepared),
 * if it was computed from what `m` holds now; it is taken (a mention changed since is normalised afresh).
 */
export function takePrepared(m: PersonMention, i: number, placeKey: string | null): Normalised | undefined {
  // Oldest first: a pipeline links the batch it prepared first, while the next one may already be kept (its
  // mentions are elsewhere, and looking there first would map all of them by object).
  for (let b = 0; b < batches.length; b++) {
    const batch = batches[b]!;
    let j = batch.mentions[i] === m ? i : -1;
    if (j < 0) {
      batch.positions ??= new Map(batch.mentions.map((x, k) => [x, k]));
      j = batch.positions.get(m) ?? -1;
    }
    const r = j >= 0 ? batch.results[j] : undefined;
    if (!r) continue;
    batch.results[j] = undefined;
    if (--batch.left === 0) batches.splice(b, 1);
    return sameSourceAt(batch.sources, j, m, placeKey) ? r : undefined;
  }
  return undefined;
}

/** How many mentions' results are kept (tests). */
export function preparedCount(): number {
  return batches.reduce((n, b) => n + b.left, 0);
}
