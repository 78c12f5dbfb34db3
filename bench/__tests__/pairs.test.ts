import { summarisePairs } from '../lib/pairs';

describe('bench: alternating pairs', () => {
  it('summarises pairs by their medians, the pairs the tree under test won and the median of their ratios', () => {
    const s = summarisePairs([{ base: 17781, head: 19770 }, { base: 19407, head: 19436 }, { base: 18893, head: 19004 },
      { base: 18014, head: 16891 }, { base: 19026, head: 19232 }]);
    expect(s).toMatchObject({ pairs: 5, headHigher: 4, baseMedian: 18893, headMedian: 19232 });
    expect(s.ratios).toEqual([1.112, 1.001, 1.006, 0.938, 1.011]);
    expect(s.medianRatio).toBe(1.006);
  });

  it('leaves out a pair with a figure missing or zero instead of dividing by it', () => {
    const s = summarisePairs([{ base: 0, head: 100 }, { base: NaN, head: 100 }, { base: 100, head: 90 }]);
    expect(s).toMatchObject({ pairs: 1, headHigher: 0, ratios: [0.9], medianRatio: 0.9 });
  });
});
