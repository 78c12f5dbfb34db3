import { parseAddress, chineseNumber, cleanAddress } from '../address-parser';
import { buildGazetteer, type Gazetteer } from '../gazetteer';

const rows = [
  ['5101', '成都市', 'city', null], ['510104', '锦江区', 'district', '5101'], ['510108', '成华区', 'district', '5101'],
  ['510104018', '东湖街道', 'street', '510104'], ['510104017', '锦官驿街道', 'street', '510104'], ['510108008', '跳蹬河街道', 'street', '510108'],
  ['510104018005', '河滨社区', 'community', '510104018'], ['510104017004', '大慈寺社区', 'community', '510104017'],
  ['510108008200', '跳蹬村', 'community', '510108008'], ['510104018009', '永兴社区', 'community', '510104018'],
  ['510108008009', '永兴社区', 'community', '510108008'],
].map(([code, name, level, parent]) => ({ code: code!, name: name!, level: level!, parent_code: parent ?? null, polygon: null }));

describe('address parser', () => {
  let g: Gazetteer;
  beforeAll(() => { g = buildGazetteer(rows); });

  it('parses a standard address into its parts', () => {
    const p = parseAddress('成都市锦江区东湖街道河滨社区永丰街38号1栋2单元2202室', g);
    expect(p).toMatchObject({
      status: 'parsed', districtCode: '510104', streetCode: '510104018', communityCode: '510104018005',
      road: '永丰街', number: '38', building: '1', unit: '2', room: '2202',
    });
  });

  it('gives every spelling of one dwelling the same key', () => {
    const variants = [
      '成都市锦江区永丰街38号1栋2单元2202号',
      '锦江区河滨社区永丰街38号1幢2单元2202室',
      '四川省成都市锦江区东湖街道河滨社区永丰街38号1栋2单元2202室',
      '锦江区永丰街３８号１栋２单元２２０２室  ',
      '锦江区永丰街38号附1号2单元2202号',
      '成都市锦江区永丰街38号1号楼2单元2202',
      '东湖街道河滨社区永丰街38号1-2-2202',
      '锦江 永丰街38号一栋2单元2202',
    ];
    const keys = new Set(variants.map((v) => parseAddress(v, g).normKey));
    expect([...keys]).toEqual(['U|510104|永丰街|38|1|2|2202']);
    for (const v of variants) expect(parseAddress(v, g).status).toBe('parsed');
  });

  it('keeps a road named like a division as the road (春熙路 is not 春熙路街道)', () => {
    const p = parseAddress('锦江区大慈寺路12号3栋1单元101室', g);
    expect(p.road).toBe('大慈寺路');
    expect(p.communityCode).toBeUndefined();
    expect(p.districtCode).toBe('510104');
  });

  it('parses village addresses, with 社 for 组 and Chinese numerals', () => {
    const keys = ['成都市成华区跳蹬河街道跳蹬村1组12号', '跳蹬河街道跳蹬村一组12号', '成华区跳蹬河街道跳蹬村1社12号', '跳蹬河街道跳蹬村１组１２号']
      .map((a) => parseAddress(a, g));
    expect(new Set(keys.map((k) => k.normKey))).toEqual(new Set(['V|510108008200|1|12']));
    expect(keys[0]).toMatchObject({ status: 'parsed', group: '1', number: '12', communityCode: '510108008200' });
  });

  it('marks a missing district or road as partial, with the reason', () => {
    const p = parseAddress('永丰街38号1幢2单元2202', g);
    expect(p.status).toBe('partial');
    expect(p.reason).toMatch(/district/);
    expect(p.houseKey).toBe('永丰街|38|1');
    const c = parseAddress('河滨社区3栋2单元1203', g);
    expect(c.status).toBe('partial');
    expect(c.reason).toMatch(/road and house number/);
  });

  it('resolves a community name shared by two districts only with its district or street', () => {
    expect(parseAddress('锦江区永兴社区人民路1号1栋1单元101室', g).communityCode).toBe('510104018009');
    expect(parseAddress('跳蹬河街道永兴社区人民路1号1栋1单元101室', g).communityCode).toBe('510108008009');
    expect(parseAddress('永兴社区人民路1号1栋1单元101室', g).communityCode).toBeUndefined();
  });

  it('keeps what it cannot parse, with the reason', () => {
    const p = parseAddress('火车站对面小卖部旁边', g);
    expect(p.status).toBe('unparsed');
    expect(p.reason).toMatch(/no division/);
    expect(parseAddress('   ', g)).toMatchObject({ status: 'unparsed', reason: 'empty address' });
  });

  it('reads Chinese numerals and cleans layout noise', () => {
    expect(chineseNumber('十二')).toBe(12);
    expect(chineseNumber('二十')).toBe(20);
    expect(chineseNumber('三')).toBe(3);
    expect(cleanAddress('人民路１段 ３号')).toBe('人民路一段3号');
  });
});
