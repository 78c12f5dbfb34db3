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

/** What a `bench:linking` run's JSON line gives that a pair compares. */
export interface RunFigures {
  recordsPerSecond: number;
  cpuSeconds?: { process: number; database: number | null };
  kernel?: { process: { minorPageFaults: number }; database: { minorPageFaults: number } | null };
}

/**
 * Pairs of runs summarised by their throughput and, under `work`, by the work each run counted: CPU seconds of the
 * process and of the database, page faults of both (a ratio below 1: the tree under test did less). On this machine
 * a pair's throughput swings with the host's phase by more than a change of a few per cent moves it; the work counted
 * swings less (docs/linking.md, round 19). A figure a run did not report leaves its pair out of that summary.
 */
export function summariseRuns(runs: ReadonlyArray<{ base: RunFigures; head: RunFigures }>): PairSummary & { work: Record<string, PairSummary> } {
  const figure = (get: (r: RunFigures) => number | null | undefined) =>
    summarisePairs(runs.map(({ base, head }) => ({ base: get(base) ?? Number.NaN, head: get(head) ?? Number.NaN })));
  return {
    ...figure((r) => r.recordsPerSecond),
    work: {
      processCpuSeconds: figure((r) => r.cpuSeconds?.process),
      databaseCpuSeconds: figure((r) => r.cpuSeconds?.database),
      processPageFaults: figure((r) => r.kernel?.process.minorPageFaults),
      databasePageFaults: figure((r) => r.kernel?.database?.minorPageFaults),
    },
  };
}
