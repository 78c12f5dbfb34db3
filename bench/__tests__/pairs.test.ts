import { summarisePairs, summariseRuns } from '../lib/pairs';

describe('bench: alternating pairs', () => {
  it('summarises pairs by their medians, the pairs the tree under test won and the median of their ratios', () => {
    const s = summarisePairs([{ base: 17781, head: 19770 }, { base: 19407, head: 19436 }, { base: 18893, head: 19004 },
      { base: 18014, head: 16891 }, { base: 19026, head: 19232 }]);
    expect(s).toMatchObject({ pairs: 5, headHigher: 4, baseMedian: 18893, headMedian: 19232 });
    expect(s.ratios).toEqual([1.112, 1.001, 1.006, 0.938, 1.011]);
    expect(s.medianRatio).toBe(1.006);
  });

  it('summarises the work each run counted beside the throughput, leaving out a figure a run did not report', () => {
    const run = (rps: number, cpu: number, db: number | null, faults: number) => ({
      recordsPerSecond: rps, cpuSeconds: { process: cpu, database: db },
      kernel: { process: { minorPageFaults: faults }, database: db === null ? null : { minorPageFaults: 40_000 } },
    });
    const s = summariseRuns([
      { base: run(19434, 6.21, 3.63, 96258), head: run(20894, 5.68, 3.37, 75598) },
      { base: run(18566, 6.53, 3.92, 92382), head: run(17304, 6.77, 4.34, 96451) },
      { base: run(18000, 6.00, null, 90000), head: run(18000, 6.00, null, 90000) },
    ]);
    expect(s).toMatchObject({ pairs: 3, headHigher: 1, medianRatio: 1 });
    expect(s.work.processCpuSeconds).toMatchObject({ pairs: 3, headHigher: 1, ratios: [0.915, 1.037, 1] });
    expect(s.work.databaseCpuSeconds).toMatchObject({ pairs: 2, ratios: [0.928, 1.107] });
    expect(s.work.databasePageFaults).toMatchObject({ pairs: 2, ratios: [1, 1] });
    expect(s.work.processPageFaults.headMedian).toBe(90000);
  });

  it('leaves out a pair with a figure missing or zero instead of dividing by it', () => {
    const s = summarisePairs([{ base: 0, head: 100 }, { base: NaN, head: 100 }, { base: 100, head: 90 }]);
    expect(s).toMatchObject({ pairs: 1, headHigher: 0, ratios: [0.9], medianRatio: 0.9 });
  });
});
