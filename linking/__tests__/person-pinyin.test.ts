import { pinyin } from 'pinyin-pro';
import { homophoneVariant, lookalikeVariant, pickName } from '../../demo/names';
import { Random } from '../../demo/random';
import { namePinyin } from '../text';

/**
 * namePinyin reads a name whose characters each have one reading character by character, and hands any other
 * name to the full conversion (surname mode, word context): both must give exactly what the full conversion
 * gives, or stored blocking keys and new ones would disagree.
 */
const full = (name: string) => pinyin(name, { toneType: 'none', type: 'array', surname: 'head', v: true })
  .map((s) => s.toLowerCase().replace(/[^a-z]/g, '')).filter(Boolean);

describe('name pinyin', () => {
  it('equals the full conversion for polyphonic surnames and given names', () => {
    // 单 曾 仇 解 朴 区 查 盖 乐 (surname readings), 长 重 行 乐 (word context), compound surnames, a rare character.
    for (const name of ['单田芳', '曾志伟', '仇英', '解缙', '朴树', '区志强', '查良镛', '盖聂', '乐嘉', '张长江', '李重阳', '王行健',
      '欧阳修', '司马光', '诸葛亮', '尉迟恭', '龚燕', '覃宇', '𠮷田', '张·伟', '李a']) {
      expect(namePinyin(name)).toEqual(full(name));
    }
  });

  it('equals the full conversion for 5,000 names of the demo population and their misspellings', () => {
    const r = new Random(20261122);
    let checked = 0;
    for (let i = 0; i < 5_000; i++) {
      const name = pickName(r, i % 2 ? 'M' : 'F', 1930 + (i % 90));
      for (const n of [name, homophoneVariant(r, name), lookalikeVariant(r, name)]) {
        expect(namePinyin(n)).toEqual(full(n));
        checked++;
      }
    }
    expect(checked).toBe(15_000);
  });

  it('splits romanised names as written', () => {
    expect(namePinyin('ZHANG Wei')).toEqual(['zhang', 'wei']);
    expect(namePinyin('Ou-Yang Xiu')).toEqual(['ou', 'yang', 'xiu']);
  });
});
