import { generateIdNumber } from '../../domain/id-number';
import { personFeatures } from '../person-features';
import { fuzzySyllable, LINK_THRESHOLD, REVIEW_THRESHOLD, scorePair } from '../person-score';
import type { PersonMention } from '../types';

const base = { ref: 'r', department: 'POLICE', sourceTable: 't', recordId: '00000000-0000-4000-8000-000000000000', recordKey: 'k', connectorId: 'c' } as const;
const f = (m: Partial<PersonMention>, place: string | null = null) => personFeatures({ ...base, ...m }, place);

describe('person scoring', () => {
  it('reads names by pinyin: homophones agree, Latin names too', () => {
    expect(scorePair(f({ name: '张伟' }), f({ name: '张玮' })).evidence.name).toBe('homophone');
    expect(scorePair(f({ name: '张伟' }), f({ name: 'ZHANG Wei' })).evidence.name).toBe('homophone');
    expect(scorePair(f({ name: '张伟' }), f({ name: 'Wei Zhang' })).evidence.name).toBe('reordered');
    expect(fuzzySyllable('huang')).toBe(fuzzySyllable('wang'));
    expect(fuzzySyllable('zhang')).toBe(fuzzySyllable('zan'));
  });

  it('counts a one-character difference only when the ID number agrees (siblings share characters)', () => {
    const sibling = scorePair(f({ name: '陈浩然', birthDate: '2010-06-01' }), f({ name: '陈浩宇', birthDate: '2010-06-01' }));
    expect(sibling.evidence.name).toBe('typo');
    expect(sibling.score).toBeLessThan(REVIEW_THRESHOLD);
    const valid = generateIdNumber('510106', '2005-04-22', 393, 'M');
    const slip = scorePair(f({ name: '王然航', idNumber: valid.slice(0, 17) + (valid[17] === '0' ? '1' : '0') }), f({ name: '黄然航', idNumber: valid }));
    expect(slip.evidence).toMatchObject({ name: 'dialect', idNumber: 'near' });
    expect(slip.score).toBeGreaterThan(0);
  });

  it('never scores two different valid ID numbers as one person', () => {
    const twins = scorePair(f({ name: '刘洋', idNumber: generateIdNumber('510104', '2010-06-01', 1, 'M') }), f({ name: '刘洋', idNumber: generateIdNumber('510104', '2010-06-01', 3, 'M') }));
    expect(twins.evidence.idNumber).toBe('conflict');
    expect(twins.score).toBeLessThan(-50);
  });

  it('weighs name, birth date (swapped too), sex, phone and dwelling against the thresholds', () => {
    const a = f({ name: '李娜', birthDate: '1985-03-07', sex: 'F', phone: '13912345678' }, '人民路|1|1|101');
    expect(scorePair(a, f({ name: '李娜', birthDate: '1985-07-03', sex: 'F' })).evidence.birthDate).toBe('swapped');
    expect(scorePair(a, f({ name: '李娜', birthDate: '1985-03-07' })).score).toBeLessThan(LINK_THRESHOLD); // name + date alone: review
    expect(scorePair(a, f({ name: '李娜', birthDate: '1985-03-07', sex: 'F' })).score).toBeGreaterThanOrEqual(LINK_THRESHOLD);
    expect(scorePair(a, f({ name: '李娜', phone: '139 1234 5678' }, '人民路|1|1|101')).score).toBeGreaterThanOrEqual(LINK_THRESHOLD);
    expect(scorePair(a, f({ name: '王芳', phone: '13912345678' }, '人民路|1|1|101')).score).toBeLessThan(REVIEW_THRESHOLD); // a family member
  });
});
