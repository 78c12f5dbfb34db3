import { Random, WeightedTable } from './random';

/**
 * Chinese names for the demo population. Surname frequencies follow the published national ranking (公安部
 * 户政管理研究中心, 2020/2021: 王 李 张 刘 陈 … with approximate shares in per cent), with a Sichuan
 * lean for a few (罗 邓 曾 彭 廖 are more frequent there). Given names follow the fashions of the birth decade.
 */
const SURNAMES: readonly (readonly [string, number])[] = [
  ['王', 7.1], ['李', 7.0], ['张', 6.8], ['刘', 5.4], ['陈', 4.6], ['杨', 3.1], ['黄', 2.3], ['赵', 2.2], ['吴', 2.0],
  ['周', 1.9], ['徐', 1.4], ['孙', 1.3], ['马', 1.2], ['朱', 1.2], ['胡', 1.1], ['郭', 1.1], ['何', 1.1], ['罗', 1.2],
  ['高', 1.0], ['林', 0.9], ['郑', 0.8], ['梁', 0.8], ['谢', 0.8], ['唐', 0.9], ['宋', 0.7], ['许', 0.7], ['韩', 0.7],
  ['冯', 0.7], ['邓', 0.9], ['曹', 0.6], ['彭', 0.8], ['曾', 0.8], ['肖', 0.7], ['田', 0.6], ['董', 0.5], ['袁', 0.6],
  ['潘', 0.5], ['于', 0.5], ['蒋', 0.6], ['蔡', 0.5], ['余', 0.6], ['杜', 0.5], ['叶', 0.4], ['程', 0.4], ['苏', 0.4],
  ['魏', 0.4], ['吕', 0.4], ['丁', 0.4], ['任', 0.5], ['沈', 0.4], ['姚', 0.4], ['卢', 0.4], ['姜', 0.3], ['崔', 0.3],
  ['钟', 0.4], ['谭', 0.4], ['陆', 0.3], ['汪', 0.3], ['范', 0.3], ['金', 0.3], ['石', 0.3], ['廖', 0.5], ['贾', 0.3],
  ['夏', 0.3], ['韦', 0.2], ['付', 0.3], ['方', 0.3], ['白', 0.2], ['邹', 0.3], ['孟', 0.2], ['熊', 0.3], ['秦', 0.2],
  ['邱', 0.3], ['江', 0.3], ['尹', 0.2], ['薛', 0.2], ['闫', 0.2], ['段', 0.2], ['雷', 0.3], ['侯', 0.2], ['龙', 0.2],
  ['史', 0.2], ['陶', 0.2], ['黎', 0.2], ['贺', 0.2], ['顾', 0.2], ['毛', 0.2], ['郝', 0.2], ['龚', 0.2], ['邵', 0.2],
  ['万', 0.2], ['钱', 0.2], ['严', 0.2], ['向', 0.2], ['戴', 0.2], ['莫', 0.1], ['孔', 0.1], ['汤', 0.1], ['文', 0.2],
  ['牟', 0.1], ['敬', 0.05], ['欧阳', 0.04], ['司马', 0.01], ['诸葛', 0.01],
];

const MALE_BY_ERA: Record<'old' | 'mid' | 'young', string> = {
  old: '建国国庆德福贵明华军国强文志忠良树林山海平春生成永祥宝兴荣富昌德全有才发勇刚',
  mid: '伟强磊军勇杰涛斌超明刚平辉鹏华飞波峰亮东海兵毅俊建林斌宁涛浩龙健凯江',
  young: '宇浩轩子涵睿博晨俊泽航一鑫帆铭宸逸辰皓然昊杰旭瑞骏哲豪奕诚霖煜烨',
};
const FEMALE_BY_ERA: Record<'old' | 'mid' | 'young', string> = {
  old: '秀英桂兰玉珍淑凤华琴芳素云翠花荣惠美兰英梅珍秀芬金莲淑霞',
  mid: '芳娜敏静丽艳娟霞玲燕萍红琳婷雪慧莉倩颖洁佳梅兰琴云丹蓉',
  young: '欣怡悦涵萱雨梓诗琪思彤语嘉可馨瑶晨妍婧一若雅梦颖琳佳璐',
};

/** Characters that sound alike (同音/近音字): the most common way a clerk writes a name differently. */
export const HOMOPHONES: Readonly<Record<string, string>> = {
  伟: '玮炜', 玮: '伟', 静: '婧', 婧: '静', 丽: '莉俪', 莉: '丽', 敏: '珉', 杰: '洁婕', 洁: '杰', 军: '君均', 华: '桦骅',
  红: '宏虹鸿', 芳: '方', 明: '铭鸣', 铭: '明', 平: '萍', 萍: '平', 英: '瑛', 玲: '琳龄', 琳: '玲林', 斌: '彬滨',
  涛: '韬', 磊: '垒', 刚: '钢', 辉: '晖', 峰: '锋', 霞: '侠', 燕: '艳雁', 艳: '燕', 梅: '玫', 兰: '岚', 琴: '芹',
  云: '芸', 婷: '亭', 宇: '雨羽禹', 浩: '皓昊', 俊: '骏峻', 鹏: '朋', 飞: '菲', 欣: '鑫馨昕', 佳: '嘉', 嘉: '佳',
  娟: '鹃', 建: '健剑', 东: '冬', 强: '蔷', 秀: '绣', 珍: '贞', 凤: '风', 桂: '贵', 贵: '桂', 林: '琳霖', 涵: '寒',
  轩: '宣', 萱: '宣', 子: '梓', 梓: '子', 晨: '辰', 辰: '晨', 睿: '瑞', 瑞: '睿', 博: '波', 波: '博', 彤: '桐',
  雪: '学', 勇: '永', 永: '勇', 海: '凯', 兵: '冰', 志: '智', 智: '志', 文: '雯', 雯: '文', 超: '潮', 亮: '靓',
  张: '章', 王: '汪', 李: '黎', 刘: '柳', 杨: '阳', 徐: '许', 许: '徐', 周: '邹', 吴: '伍', 冯: '封', 肖: '萧',
  余: '于俞', 钟: '仲', 卢: '鲁', 程: '陈', 黄: '王', 付: '傅', 傅: '付', 闫: '阎', 颖: '莹',
};

/** Look-alike characters (形近字) and traditional forms: typing and OCR errors. */
export const LOOKALIKES: Readonly<Record<string, string>> = {
  王: '玉', 玉: '王', 未: '末', 己: '已', 土: '士', 刘: '浏', 张: '張', 陈: '陳', 华: '華', 伟: '偉', 东: '東',
  国: '國', 军: '軍', 丽: '麗', 红: '紅', 杨: '楊', 黄: '黃', 赵: '趙', 吴: '吳', 孙: '孫', 马: '馬', 郑: '鄭',
  梁: '粱', 谢: '謝', 许: '許', 韩: '韓', 冯: '馮', 邓: '鄧', 刚: '剛', 辉: '輝', 凤: '鳳', 兰: '蘭', 贵: '貴',
  明: '朋', 日: '曰', 大: '太', 天: '夭', 人: '入', 杰: '傑', 晨: '晟', 宇: '字', 鹏: '鵬', 涛: '濤', 燕: '鷰',
};

const surnameTable = new WeightedTable(SURNAMES);

function era(birthYear: number): 'old' | 'mid' | 'young' {
  if (birthYear < 1965) return 'old';
  if (birthYear < 1995) return 'mid';
  return 'young';
}

export function pickSurname(r: Random): string {
  return surnameTable.pick(r);
}

/** A given name of one or two characters in the fashion of the birth year. */
export function pickGivenName(r: Random, sex: 'M' | 'F', birthYear: number): string {
  const pool = sex === 'M' ? MALE_BY_ERA[era(birthYear)] : FEMALE_BY_ERA[era(birthYear)];
  const chars = [...pool];
  // Single-character given names were common in the 1980s-90s (张伟, 王静), rarer before and after.
  const single = era(birthYear) === 'mid' ? 0.35 : 0.15;
  if (r.chance(single)) return r.pick(chars);
  let a = r.pick(chars);
  let b = r.pick(chars);
  if (a === b && r.chance(0.8)) b = r.pick(chars);
  return a + b;
}

export function pickName(r: Random, sex: 'M' | 'F', birthYear: number, surname?: string): string {
  return (surname ?? pickSurname(r)) + pickGivenName(r, sex, birthYear);
}

/** Replace one character with a homophone (张伟 → 张玮). Returns the name unchanged if none applies. */
export function homophoneVariant(r: Random, name: string): string {
  return replaceOne(r, name, HOMOPHONES);
}

/** Replace one character with a look-alike or its traditional form. */
export function lookalikeVariant(r: Random, name: string): string {
  return replaceOne(r, name, LOOKALIKES);
}

function replaceOne(r: Random, name: string, table: Readonly<Record<string, string>>): string {
  const chars = [...name];
  const candidates = chars.map((c, i) => (table[c] ? i : -1)).filter((i) => i >= 0);
  if (!candidates.length) return name;
  // Prefer the given name: clerks copy the surname right far more often.
  const given = candidates.filter((i) => i > 0);
  const i = given.length && r.chance(0.85) ? r.pick(given) : r.pick(candidates);
  chars[i] = r.pick([...table[chars[i]!]!]);
  return chars.join('');
}

const MOBILE_PREFIXES = ['130', '131', '132', '133', '135', '136', '137', '138', '139', '150', '151', '152', '153', '155',
  '156', '157', '158', '159', '177', '180', '181', '182', '183', '186', '187', '188', '189', '191', '198', '199'];

export function pickMobile(r: Random): string {
  return r.pick(MOBILE_PREFIXES) + String(r.int(0, 99_999_999)).padStart(8, '0');
}

/** A Chengdu landline (028-8xxxxxxx), which older residents still give. */
export function pickLandline(r: Random): string {
  return `028-8${String(r.int(0, 9_999_999)).padStart(7, '0')}`;
}
