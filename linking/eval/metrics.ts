/**
 * Pairwise linking quality: over every pair of records, "linked" means both ended at the same person. A pair
 * is a true positive when the two records also belong to the same real person. Computed from cluster sizes
 * (no pair enumeration): pairs(n) = n(n-1)/2 summed over predicted clusters, true clusters, and their overlaps.
 */
export interface PairwiseFigures {
  precision: number;
  recall: number;
  f1: number;
  truePairs: number;
  predictedPairs: number;
  correctPairs: number;
}

const pairs = (n: number) => (n * (n - 1)) / 2;

/** `assignments`: one [predicted cluster, true cluster] per record. */
export function pairwise(assignments: Iterable<readonly [string, string]>): PairwiseFigures {
  const predicted = new Map<string, number>();
  const truth = new Map<string, number>();
  const both = new Map<string, number>();
  for (const [p, t] of assignments) {
    predicted.set(p, (predicted.get(p) ?? 0) + 1);
    truth.set(t, (truth.get(t) ?? 0) + 1);
    const k = `${p}\u0000${t}`;
    both.set(k, (both.get(k) ?? 0) + 1);
  }
  let predictedPairs = 0;
  let truePairs = 0;
  let correctPairs = 0;
  for (const n of predicted.values()) predictedPairs += pairs(n);
  for (const n of truth.values()) truePairs += pairs(n);
  for (const n of both.values()) correctPairs += pairs(n);
  const precision = predictedPairs ? correctPairs / predictedPairs : 1;
  const recall = truePairs ? correctPairs / truePairs : 1;
  const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, f1, truePairs, predictedPairs, correctPairs };
}
