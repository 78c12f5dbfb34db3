/**
 * Records per batch unless the run says otherwise. 10,000: what `bench:sync` has always measured, and what linking
 * measured faster than 5,000 (the default until session 7): each batch boundary costs linking a round of reading
 * while the process waits and of deciding while the database waits, about 10–25 % of its throughput at 5,000
 * (docs/linking.md, round 11). Two batches are in memory at most (one written, the next read and mapped).
 */
export const DEFAULT_BATCH_ROWS = 10_000;
