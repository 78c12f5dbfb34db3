import {
  communitiesOfCity, districtsOfCity, divisionLevel, isProvinceCode, isRegionCode, regionCodeStatus, shortCommunityName, streetsOfDistrict,
} from '../divisions';

describe('administrative divisions (GB/T 2260 + NBS town/village codes)', () => {
  it('knows current, historical and unknown county-level codes', () => {
    expect(regionCodeStatus('510104')).toBe('current');   // 锦江区
    expect(regionCodeStatus('510122')).toBe('historical'); // 双流县
    expect(regionCodeStatus('110104')).toBe('historical'); // 宣武区
    expect(regionCodeStatus('510100')).toBe('historical'); // 成都市 city-level
    expect(regionCodeStatus('519999')).toBe('unknown');
    expect(regionCodeStatus('51010')).toBe('unknown');
    expect(isRegionCode('510107')).toBe(true);
    expect(isRegionCode('000000')).toBe(false);
    expect(isProvinceCode('51')).toBe(true);
    expect(isProvinceCode('99')).toBe(false);
  });

  it('lists the districts, streets and communities of Chengdu with their real codes', async () => {
    const d = districtsOfCity('5101');
    expect(d.map((x) => x.code)).toContain('510104');
    expect(d.find((x) => x.code === '510107')?.name).toBe('武侯区');
    const s = streetsOfDistrict('510104');
    expect(s.length).toBeGreaterThan(5);
    expect(s.every((x) => x.code.startsWith('510104') && x.code.length === 9)).toBe(true);
    const c = await communitiesOfCity('5101');
    expect(c.length).toBeGreaterThan(2000);
    expect(c.every((x) => x.code.length === 12 && x.cityCode === '5101' && x.code.startsWith(x.streetCode))).toBe(true);
    expect(c.some((x) => x.kind === 'village')).toBe(true);
    expect(c.some((x) => x.kind === 'community')).toBe(true);
    await expect(communitiesOfCity('51')).rejects.toThrow(/4 digits/);
  });

  it('shortens committee names and knows levels by code length', () => {
    expect(shortCommunityName('多福巷社区居委会')).toBe('多福巷社区');
    expect(shortCommunityName('红光村委会')).toBe('红光村');
    expect(shortCommunityName('红光村民委员会')).toBe('红光村');
    expect(shortCommunityName('五桥村村民委员会')).toBe('五桥村');
    expect(shortCommunityName('五桥村村委会')).toBe('五桥村');
    expect(shortCommunityName('天瑞社区工作站社区')).toBe('天瑞社区');
    expect(divisionLevel('510104001001003')).toBe('grid');
    expect(divisionLevel('510104')).toBe('district');
  });
});
