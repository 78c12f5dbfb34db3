import {
  canonicalIdNumber, generateIdNumber, idCheckDigit, maskIdNumber, normaliseIdNumber, upgradeIdNumber15to18, validateIdNumber,
} from '../id-number';

describe('公民身份号码 (GB 11643-1999)', () => {
  // The standard's own example and a well-known published specimen.
  const example = '11010519491231002X';

  it('computes the ISO 7064 MOD 11-2 check character', () => {
    expect(idCheckDigit('11010519491231002')).toBe('X');
    expect(idCheckDigit('44052418800101001')).toBe('4');
    expect(() => idCheckDigit('1234')).toThrow(/17 digits/);
  });

  it('validates a good number and reads birth date and sex from it', () => {
    const v = validateIdNumber(example);
    expect(v).toMatchObject({ valid: true, length: 18, reasons: [], birthDate: '1949-12-31', sex: 'F', regionCode: '110105', regionStatus: 'current', canonical: example });
    expect(validateIdNumber('440524188001010014')).toMatchObject({ valid: true, sex: 'M', birthDate: '1880-01-01' });
  });

  it('normalises full-width characters, lower-case x, spaces and dashes', () => {
    expect(normaliseIdNumber('１１０１０５１９４９１２３１００２ｘ')).toBe(example);
    expect(normaliseIdNumber(' 110105 19491231 002x ')).toBe(example);
    expect(normaliseIdNumber('110105-1949-1231-002X')).toBe(example);
    expect(normaliseIdNumber('110105\u300019491231002X')).toBe(example);
    expect(normaliseIdNumber(null)).toBe('');
    expect(validateIdNumber('１１０１０５１９４９１２３１００２ｘ').valid).toBe(true);
  });

  it('reports each problem: structure, region, birth date, check digit', () => {
    expect(validateIdNumber('1101051949123100').reasons).toEqual(['structure']);
    expect(validateIdNumber('11010519491231002Y').reasons).toEqual(['structure']);
    expect(validateIdNumber('张三').reasons).toEqual(['structure']);
    expect(validateIdNumber('').reasons).toEqual(['structure']);
    expect(validateIdNumber('110105194912310021').reasons).toEqual(['checkDigit']);
    expect(validateIdNumber('110105194912310021').expectedCheckDigit).toBe('X');

    const badRegion = '991234194912310020';
    const fixed = badRegion.slice(0, 17) + idCheckDigit(badRegion.slice(0, 17));
    expect(validateIdNumber(fixed).reasons).toEqual(['region']);

    const feb30 = '11010519490230002';
    expect(validateIdNumber(feb30 + idCheckDigit(feb30)).reasons).toEqual(['birthDate']);
    const future = '11010520990101002';
    expect(validateIdNumber(future + idCheckDigit(future)).reasons).toEqual(['birthDate']);
    const feb29 = '11010520000229002';
    expect(validateIdNumber(feb29 + idCheckDigit(feb29)).valid).toBe(true);
    const feb29bad = '11010519000229002';
    expect(validateIdNumber(feb29bad + idCheckDigit(feb29bad)).reasons).toEqual(['birthDate']);
  });

  it('accepts a historical region code but tells it apart from a current one', () => {
    const old = generateIdNumber('510122', '1965-03-08', 123, 'M'); // 双流县, now 双流区 510116
    expect(validateIdNumber(old)).toMatchObject({ valid: true, regionStatus: 'historical' });
    const unknownButProvinceReal = generateIdNumber('519999', '1965-03-08', 123, 'M');
    expect(validateIdNumber(unknownButProvinceReal)).toMatchObject({ valid: true, regionStatus: 'unknown' });
  });

  it('upgrades a legacy 15-digit number to 18 digits', () => {
    expect(upgradeIdNumber15to18('110105491231002')).toBe(example);
    const v15 = validateIdNumber('110105491231002');
    expect(v15).toMatchObject({ valid: true, length: 15, birthDate: '1949-12-31', sex: 'F', canonical: example });
    expect(validateIdNumber('110105491331002').reasons).toEqual(['birthDate']);
    expect(() => upgradeIdNumber15to18('11010549123100')).toThrow(/15 digits/);
    expect(canonicalIdNumber('110105491231002')).toBe(example);
    expect(canonicalIdNumber('110105194912310021')).toBeNull();
  });

  it('generates valid numbers with the sex in the sequence parity', () => {
    for (let seq = 0; seq < 1000; seq += 37) {
      for (const sex of ['M', 'F'] as const) {
        const id = generateIdNumber('510104', '1988-07-15', seq, sex);
        const v = validateIdNumber(id);
        expect(v.valid).toBe(true);
        expect(v.sex).toBe(sex);
        expect(v.birthDate).toBe('1988-07-15');
      }
    }
    const id15 = generateIdNumber('510104', '1958-02-01', 10, 'M', 15);
    expect(id15).toHaveLength(15);
    expect(validateIdNumber(id15)).toMatchObject({ valid: true, sex: 'M', birthDate: '1958-02-01' });
    expect(() => generateIdNumber('5101', '1988-07-15', 1, 'M')).toThrow(/region/);
    expect(() => generateIdNumber('510104', '1988-02-30', 1, 'M')).toThrow(/birthDate/);
    expect(() => generateIdNumber('510104', '2001-02-03', 1, 'M', 15)).toThrow(/19xx/);
  });

  it('masks for display', () => {
    expect(maskIdNumber(example)).toBe('110105********002X');
  });
});
