import { dwellingKey, type Dwelling, type GeoGrid } from '../geography';
import { pickName } from '../names';
import { writeAddress, writePerson } from '../noise';
import type { Person } from '../population';
import type { Random } from '../random';
import { DAY, HOUR, isoCst } from '../time';
import type { LineWriter } from '../writers';
import { truthAddress, type GenContext } from './common';
import { noiseWith } from './police';

/**
 * 信访 (letters and visits): petitions as the provincial petition system's open API returns them — JSON with
 * camelCase fields, times in ISO 8601 with +08:00, the handling steps nested in order through the closed
 * loop 登记 → 受理 → 交办 → 办理 → 答复 → 办结, and the petitioner's satisfaction (评价) at the end.
 */
export interface PetitionPerson {
  name: string | null;
  idCard: string | null;
  phone: string | null;
  sex: '男' | '女' | null;
  address: string | null;
}

export interface PetitionStep {
  seq: number;
  step: (typeof STEP_ORDER)[number] | '评价';
  at: string;
  org: string;
  handler: string;
  opinion: string;
}

export interface PetitionRecord {
  petitionNo: string;
  channel: '来访' | '来信' | '网上信访' | '12345转办';
  registeredAt: string;
  petitioner: PetitionPerson;
  coPetitioners: PetitionPerson[];
  personCount: number;
  category: { code: string; name: string };
  subject: string;
  content: string;
  occurredAddress: string | null;
  areaCode: string;
  targetOrg: string;
  status: (typeof STATUS_BY_STEP)[keyof typeof STATUS_BY_STEP];
  deadline: string;
  steps: PetitionStep[];
  satisfaction: '满意' | '基本满意' | '不满意' | null;
  relatedCaseNo: string | null;
  updatedAt: string;
  version: number;
}

export const STEP_ORDER = ['登记', '受理', '交办', '办理', '答复', '办结'] as const;
export const STATUS_BY_STEP = { 登记: '待受理', 受理: '已受理', 交办: '已交办', 办理: '办理中', 答复: '已答复', 办结: '已办结' } as const;

export const PETITION_CATEGORIES = {
  '01': '城乡建设', '02': '劳动和社会保障', '03': '农村农业', '04': '民政与应急', '05': '政法', '06': '自然资源',
  '07': '生态环境', '08': '卫生健康', '09': '教育', '10': '其他',
} as const;

const SUBJECTS: Record<keyof typeof PETITION_CATEGORIES, [string, string][]> = {
  '01': [['反映小区物业服务问题', '小区物业管理混乱，电梯经常故障，要求整改。'], ['反映老旧小区改造问题', '要求加快老旧小区改造进度，加装电梯。']],
  '02': [['反映拖欠工资问题', '在某工地务工被拖欠工资，多次讨要未果。'], ['反映社保缴纳问题', '单位未按规定缴纳社会保险。']],
  '03': [['反映土地流转问题', '土地流转费用未按时支付。']],
  '04': [['申请低保救助', '家庭困难，申请纳入最低生活保障。'], ['反映救助金发放问题', '低保金未按时发放。']],
  '05': [['对邻里纠纷调处结果不满', '与邻居的纠纷经调解未能解决，要求有关部门依法处理。'], ['反映民警处警问题', '对派出所处警结果有异议。']],
  '06': [['反映违法建设问题', '邻居违法搭建阳光房，影响采光。']],
  '07': [['反映噪音污染问题', '楼下餐馆油烟噪音扰民。'], ['反映垃圾清运问题', '小区垃圾长期未清运。']],
  '08': [['反映医疗纠纷问题', '对医院诊疗结果有异议。']],
  '09': [['反映入学问题', '子女就近入学问题。']],
  '10': [['其他诉求', '其他问题。']],
};

export interface PetitionSpec {
  at: number;
  place: Dwelling;
  petitioner: Person;
  co: Person[];
  category?: keyof typeof PETITION_CATEGORIES;
  relatedCaseNo?: string;
  chain?: string;
}

/** The bodies a petition about a place in this grid goes to: the district's petition bureau and the responsible body. */
export function petitionOrgs(grid: GeoGrid): { bureau: string; street: string; community: string; target: (cat: string) => string } {
  const district = grid.community.street.district.name;
  const street = grid.community.street.name;
  const byCat: Record<string, string> = {
    '01': `${district}住房和城乡建设局`, '02': `${district}人力资源和社会保障局`, '03': `${district}农业农村局`, '04': `${district}民政局`,
    '05': `${district}司法局`, '06': `${district}规划和自然资源局`, '07': `${district}生态环境局`, '08': `${district}卫生健康局`, '09': `${district}教育局`,
  };
  return {
    bureau: `${district}信访局`, street: `${street}办事处`, community: `${grid.community.name}居民委员会`,
    target: (cat) => byCat[cat] ?? `${street}办事处`,
  };
}

/**
 * Advance a petition by one step of the closed loop at time `at` (the demo system's own workflow: the live
 * changer calls it, and generation replays it up to the as-of date). Returns false when already evaluated.
 */
export function advancePetition(r: Random, rec: PetitionRecord, at: number): boolean {
  const o = { bureau: rec.steps[0]!.org };
  const last = rec.steps[rec.steps.length - 1]!;
  const handler = (): string => pickName(r, r.chance(0.5) ? 'M' : 'F', r.int(1965, 1995));
  const idx = STEP_ORDER.indexOf(last.step as (typeof STEP_ORDER)[number]);
  if (last.step === '评价') return false;
  if (last.step === '办结') {
    rec.satisfaction = r.weighted([['满意', 70], ['基本满意', 20], ['不满意', 10]] as const);
    rec.steps.push({ seq: rec.steps.length + 1, step: '评价', at: isoCst(at), org: o.bureau, handler: '信访人', opinion: `信访人评价：${rec.satisfaction}` });
  } else {
    const next = STEP_ORDER[idx + 1]!;
    const opinions: Record<string, [string, string]> = {
      受理: [o.bureau, '符合受理条件，予以受理。'],
      交办: [o.bureau, `交${rec.targetOrg}办理，请于规定期限内办结并答复信访人。`],
      办理: [rec.targetOrg, '已联系信访人了解情况，会同社区开展调查核实。'],
      答复: [rec.targetOrg, '已书面答复信访人，告知处理意见及依据。'],
      办结: [o.bureau, '经审核，该件已按期办结。'],
    };
    const [org, opinion] = opinions[next]!;
    rec.steps.push({ seq: rec.steps.length + 1, step: next, at: isoCst(at), org, handler: handler(), opinion });
    rec.status = STATUS_BY_STEP[next];
  }
  rec.updatedAt = isoCst(at);
  rec.version++;
  return true;
}

export class PetitionSource {
  private serial = 0;

  constructor(private readonly ctx: GenContext, private readonly out: LineWriter) {}

  petition(r: Random, spec: PetitionSpec): string {
    const { geo, rates, asOfMs } = this.ctx;
    this.serial++;
    const d = spec.place;
    const district = d.grid.community.street.district;
    const petitionNo = `XF${district.code}${isoCst(spec.at).slice(0, 4)}${String(this.serial).padStart(7, '0')}`;
    const category = spec.category ?? r.weighted([['01', 25], ['02', 15], ['03', 5], ['04', 10], ['05', 15], ['06', 8], ['07', 12], ['08', 4], ['09', 3], ['10', 3]] as const);
    const [subject, content] = spec.relatedCaseNo ? SUBJECTS[category][0]! : r.pick(SUBJECTS[category]);
    const o = petitionOrgs(d.grid);
    const person = (p: Person, main: boolean): PetitionPerson => {
      const w = writePerson(r, rates, p);
      const addr = writeAddress(r, rates, geo, p.household.dwelling, 'petition');
      this.ctx.truth.add(p, {
        department: 'PETITION', stream: 'petitions', key: petitionNo, mention: main ? 'petitioner' : `coPetitioners[${spec.co.indexOf(p)}]`,
        role: main ? '信访人' : '联名信访人', ...truthAddress(p.household.dwelling, addr.text, addr.variant),
        ...(spec.chain ? { chain: spec.chain } : {}), noise: noiseWith(w, addr.variant),
      });
      return { name: w.name, idCard: w.idNumber, phone: w.phone, sex: w.sex ? (w.sex === 'M' ? '男' : '女') : null, address: addr.text };
    };
    const occurred = writeAddress(r, rates, geo, d, 'petition');
    const rec: PetitionRecord = {
      petitionNo,
      channel: r.weighted([['来访', 3], ['来信', 1], ['网上信访', 4], ['12345转办', 2]] as const),
      registeredAt: isoCst(spec.at),
      petitioner: person(spec.petitioner, true),
      coPetitioners: spec.co.map((p) => person(p, false)),
      personCount: 1 + spec.co.length,
      category: { code: category, name: PETITION_CATEGORIES[category] },
      subject,
      content: spec.relatedCaseNo ? `${content}（原调解案件：${spec.relatedCaseNo}）` : content,
      occurredAddress: occurred.text,
      areaCode: d.grid.community.street.code,
      targetOrg: o.target(category),
      status: '待受理',
      deadline: isoCst(spec.at + 60 * DAY),
      steps: [{ seq: 1, step: '登记', at: isoCst(spec.at), org: o.bureau, handler: pickName(r, 'F', r.int(1975, 1995)), opinion: '登记信访事项。' }],
      satisfaction: null,
      relatedCaseNo: spec.relatedCaseNo ?? null,
      updatedAt: isoCst(spec.at),
      version: 1,
    };
    // Replay the workflow up to the as-of date: accepted within days, replied within weeks, closed within 60 days.
    let t = spec.at;
    const gaps = [r.int(1, 5) * DAY, r.int(1, 3) * DAY, r.int(2, 10) * DAY, r.int(5, 30) * DAY, r.int(1, 10) * DAY, r.int(1, 15) * DAY];
    for (const gap of gaps) {
      t += gap + r.int(0, 8) * HOUR;
      if (t >= asOfMs) break;
      advancePetition(r, rec, t);
    }
    this.out.write(JSON.stringify(rec));
    this.ctx.events.add({
      department: 'PETITION', stream: 'petitions', key: petitionNo, occurredAt: rec.registeredAt, address: occurred.text,
      gridCode: d.grid.code, placeKey: dwellingKey(d), ...(spec.chain ? { chain: spec.chain } : {}),
    });
    return petitionNo;
  }
}
