import { median, round } from './stats';

/**
 * Alternating pairs: a figure of a base tree and of the tree under test measured one right after the other, again
 * and again. On a machine whose speed drifts by a third within minutes (docs/linking.md, rounds 11–18), a single run
 * of each tells nothing; the pairs' ratios do, since both runs of a pair meet about the same phase.
 */
export interface Pair {
  base: number;
  head: number;
}

export interface PairSummary {
  pairs: number;
  /** Pairs in which the tree under test had the higher figure. */
  headHigher: number;
  baseMedian: number;
  headMedian: number;
  /** head / base per pair, in the order measured. */
  ratios: number[];
  medianRatio: number;
}

export function summarisePairs(pairs: readonly Pair[]): PairSummary {
  const valid = pairs.filter((p) => Number.isFinite(p.base) && Number.isFinite(p.head) && p.base > 0);
  const ratios = valid.map((p) => round(p.head / p.base, 3));
  return {
    pairs: valid.length,
    headHigher: valid.filter((p) => p.head > p.base).length,
    baseMedian: median(valid.map((p) => p.base)),
    headMedian: median(valid.map((p) => p.head)),
    ratios,
    medianRatio: round(median(ratios), 3),
  };
}
