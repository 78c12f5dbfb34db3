/**
 * (key, person) pairs this process knows to be in core.person_keys: the known persons' pairs a batch merged beside it
 * (linking/person-linking.ts, writeKeysAside), committed there. A batch's mentions of persons the hub knows already
 * (a register's residents in every incident, case and visit) bring their keys again; each pair sent costs the merge
 * an existence probe of the key's hash index and a visit of every row with that key (about 5 µs), and the batch waits
 * for it: about 400 ms a batch of 10,000 police incidents in bench:sync (docs/linking.md, round 20). Pairs found here
 * are not sent again.
 *
 * Nothing deletes a pair from the table but the loss of the whole (unlogged) table in a crash, after which it is
 * rebuilt with a new sentinel row: the pairs are valid for the sentinel they were learnt under (the database and the
 * sentinel's xmin, read by every batch), and forgotten when it changes. A pair committed beside a batch that then
 * rolled back is in the table all the same (a key of a person the look-ups skip if it does not exist). Pairs written in the batch's own
 * transaction are not learnt (whether it commits is the caller's). Bounded: emptied when full.
 */
export class KnownKeyPairs {
  private readonly pairs = new Set<string>();
  private generation: string | null = null;

  constructor(private readonly max = 400_000) {}

  /** The key tables' generation a batch read (database and sentinel xmin; null: missing, being rebuilt): a new one empties the set. */
  seen(generation: string | null): void {
    if (generation === this.generation) return;
    this.pairs.clear();
    this.generation = generation;
  }

  has(key: string, personId: string): boolean {
    return this.generation !== null && this.pairs.has(pairOf(key, personId));
  }

  /** Pairs committed under `generation` (those of a batch that read it). */
  learn(generation: string | null, keys: readonly string[], persons: readonly string[]): void {
    if (generation === null || generation !== this.generation) return;
    if (this.pairs.size + keys.length > this.max) this.pairs.clear();
    for (let i = 0; i < keys.length; i++) this.pairs.add(pairOf(keys[i]!, persons[i]!));
  }
}

function pairOf(key: string, personId: string): string {
  return `${personId}\u001f${key}`;
}

/** The process's pairs. A batch of another database reads another generation (it names the database), which empties them. */
export const knownKeyPairs = new KnownKeyPairs();
