import { normaliseFrom, sourceAt, sourceList } from '../person-normalise';
import { preparedCount, rememberPrepared, takePrepared } from '../prepared-mentions';
import { mentionsOf } from './fixtures';

/**
 * Mentions prepared ahead of their batch (linking/prepared-mentions.ts): a result is taken once, by the same mention
 * object holding the same values, wherever it stands in the batch; nothing is kept beyond the last few batches.
 */
const mention = mentionsOf('CIVIL_AFFAIRS', 'civil.subsidies');

function prepare(n: number, tag: string) {
  const ms = Array.from({ length: n }, (_, i) => mention({ name: `${tag}${i}`, birthDate: `1970-01-${String(1 + i).padStart(2, '0')}`, phone: `1390000${String(i).padStart(4, '0')}` }));
  const keys = ms.map((_, i) => (i % 2 ? `510104|东湖街道|永丰街|${i}号|1栋` : null));
  const sources = sourceList(ms, keys);
  const results = ms.map((_, i) => normaliseFrom(sourceAt(sources, i)));
  rememberPrepared(ms, sources, [...results]);
  return { ms, keys, results };
}

describe('mentions prepared ahead', () => {
  it('gives each mention its own result once, at its position or elsewhere in the batch', () => {
    const { ms, keys, results } = prepare(4, '甲');
    expect(preparedCount()).toBe(4);
    expect(takePrepared(ms[0]!, 0, keys[0]!)).toBe(results[0]);
    // Taken: not again.
    expect(takePrepared(ms[0]!, 0, keys[0]!)).toBeUndefined();
    // The batch linked in another order: found by the mention itself.
    expect(takePrepared(ms[3]!, 1, keys[3]!)).toBe(results[3]);
    expect(takePrepared(ms[1]!, 3, keys[1]!)).toBe(results[1]);
    // Another object with the same values is another mention: not given a result prepared for this one.
    expect(takePrepared({ ...ms[2]! }, 2, keys[2]!)).toBeUndefined();
    expect(takePrepared(ms[2]!, 2, keys[2]!)).toBe(results[2]);
    // All taken: the batch is gone.
    expect(preparedCount()).toBe(0);
  });

  it('does not give a result to a mention changed since it was prepared, and drops that result', () => {
    const { ms, keys, results } = prepare(3, '乙');
    ms[0]!.phone = '13700000000';
    expect(takePrepared(ms[0]!, 0, keys[0]!)).toBeUndefined();
    // Its place key changed (the address resolves elsewhere now): not given either.
    expect(takePrepared(ms[1]!, 1, null)).toBeUndefined();
    expect(takePrepared(ms[2]!, 2, keys[2]!)).toBe(results[2]);
    expect(preparedCount()).toBe(0);
  });

  it('gives each of two batches prepared ahead its own results, the first linked while the second is kept', () => {
    const a = prepare(3, '戊');
    const b = prepare(3, '己');
    a.ms.forEach((m, i) => expect(takePrepared(m, i, a.keys[i]!)).toBe(a.results[i]));
    expect(preparedCount()).toBe(3);
    b.ms.forEach((m, i) => expect(takePrepared(m, i, b.keys[i]!)).toBe(b.results[i]));
    expect(preparedCount()).toBe(0);
  });

  it('keeps no more than the last four batches prepared', () => {
    const first = prepare(2, '丙');
    for (let i = 0; i < 4; i++) prepare(2, `丁${i}`);
    // The oldest batch, never linked, is forgotten.
    expect(takePrepared(first.ms[0]!, 0, first.keys[0]!)).toBeUndefined();
    expect(preparedCount()).toBe(8);
  });
});
