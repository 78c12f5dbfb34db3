import ExcelJS from 'exceljs';
import { dwellingKey, type Dwelling } from '../geography';
import { pickName } from '../names';
import { writeAddress, writePerson, type WrittenPerson } from '../noise';
import type { Person } from '../population';
import type { Random } from '../random';
import { DAY, HOUR, isoCst, localDate, localDateTime, slashDate } from '../time';
import { csvLine, type LineWriter } from '../writers';
import { truthAddress, type GenContext } from './common';
import { noiseWith } from './police';

/**
 * 司法 (justice): people's mediation cases exported from the mediation platform as CSV in GBK with Chinese
 * headers (as Excel on a government desktop saves them), and the community-correction roster as XLSX —
 * both dropped into a folder, a new file now and then.
 */
export const MEDIATION_HEADERS = [
  '案件编号', '受理日期', '纠纷类型', '纠纷简要情况', '申请人姓名', '申请人性别', '申请人身份证号码', '申请人联系电话', '申请人住址',
  '被申请人姓名', '被申请人性别', '被申请人身份证号码', '被申请人联系电话', '被申请人住址', '纠纷发生地', '调解组织', '调解级别',
  '调解员', '案件来源', '移交单号', '调解状态', '调解结果', '协议金额(元)', '结案日期', '更新时间',
] as const;

export const CORRECTION_HEADERS = [
  '矫正对象编号', '姓名', '性别', '民族', '身份证号码', '出生日期', '户籍地', '居住地', '矫正类别', '罪名', '原判刑期',
  '矫正起始日期', '矫正终止日期', '矫正状态', '管理类别', '负责司法所', '联系电话', '更新时间',
] as const;

export const DISPUTE_TYPES = ['邻里纠纷', '婚姻家庭纠纷', '房屋宅基地纠纷', '合同纠纷', '损害赔偿纠纷', '劳动争议纠纷', '物业纠纷', '山林土地纠纷', '其他纠纷'] as const;
export type DisputeType = (typeof DISPUTE_TYPES)[number];
export const MEDIATION_LEVELS = ['村(社区)级', '乡镇(街道)级', '县(区)级'] as const;

const SUMMARIES: Record<DisputeType, string[]> = {
  邻里纠纷: ['双方系楼上楼下邻居，因卫生间漏水赔偿问题发生纠纷。', '双方因楼道堆放杂物、占用公共通道多次发生争执。', '双方因停车位使用问题产生矛盾。', '申请人称被申请人装修噪音影响休息，协商未果。'],
  婚姻家庭纠纷: ['夫妻双方因家庭琐事长期争吵，女方要求调解。', '兄弟姐妹因父母赡养费用分担产生纠纷。', '双方因离婚后子女抚养问题发生争议。'],
  房屋宅基地纠纷: ['双方因宅基地界址不清发生争议。', '双方因房屋买卖过户问题产生纠纷。'],
  合同纠纷: ['双方因装修合同款项结算发生纠纷。', '双方因借款到期未还发生纠纷。'],
  损害赔偿纠纷: ['双方因电动车碰撞造成人身损害，就赔偿金额发生争议。', '被申请人饲养的犬只咬伤申请人，就医疗费用产生纠纷。'],
  劳动争议纠纷: ['申请人称被申请人拖欠工资，要求支付。'],
  物业纠纷: ['业主与物业服务企业因物业费及服务质量发生纠纷。'],
  山林土地纠纷: ['双方因承包地边界发生争议。'],
  其他纠纷: ['其他矛盾纠纷。'],
};

const CORRECTION_TYPES: readonly (readonly [string, number])[] = [['缓刑', 85], ['假释', 8], ['暂予监外执行', 5], ['管制', 2]];
const CRIMES = ['危险驾驶罪', '盗窃罪', '诈骗罪', '故意伤害罪', '交通肇事罪', '帮助信息网络犯罪活动罪', '开设赌场罪', '非法吸收公众存款罪', '寻衅滋事罪'];
const ETHNICITY: Record<string, string> = { '01': '汉族', '03': '回族', '04': '藏族', '07': '彝族', '15': '土家族', '33': '羌族' };

export interface MediationSpec {
  type: DisputeType;
  at: number;
  place: Dwelling;
  applicant: Person;
  respondent: Person;
  /** Handed over by the police: the incident number becomes the 移交单号, its summary the case's. */
  fromIncident?: { jqbh: string; summary: string };
  chain?: string;
}

export interface MediationOutcome {
  caseNo: string;
  /** Closed without agreement: the kind of case that goes on to a petition. */
  failed: boolean;
  closedAt: number | null;
}

export interface CorrectionRow { values: unknown[] }

function justiceOffice(d: Dwelling): string {
  return `${d.grid.community.street.name.replace(/(街道|镇|乡)$/, '')}司法所`;
}

export class JusticeSource {
  private caseSerial = 0;
  readonly corrections: unknown[][] = [];

  constructor(private readonly ctx: GenContext, private readonly mediationFile: () => LineWriter) {}

  static header(): string {
    return csvLine(MEDIATION_HEADERS);
  }

  mediationCase(r: Random, spec: MediationSpec): MediationOutcome {
    const { geo, rates, asOfMs } = this.ctx;
    this.caseSerial++;
    const d = spec.place;
    const district = d.grid.community.street.district;
    const year = localDate(spec.at).slice(0, 4);
    const caseNo = `(${year})川${district.code.slice(4)}调字第${String(this.caseSerial).padStart(6, '0')}号`;
    const level = spec.fromIncident ? r.weighted([[0, 6], [1, 4]] as const) : r.weighted([[0, 7], [1, 2.5], [2, 0.5]] as const);
    const org = level === 0 ? `${d.grid.community.name}人民调解委员会` : level === 1 ? `${d.grid.community.street.name}人民调解委员会` : `${district.name}人民调解中心`;
    const age = asOfMs - spec.at;
    let status: '已受理' | '调解中' | '已结案';
    let result: string | null = null;
    let closedAt: number | null = null;
    if (age < 3 * DAY) status = '已受理';
    else if (age < 20 * DAY && r.chance(0.6)) status = '调解中';
    else {
      status = '已结案';
      result = r.chance(0.88) ? '调解成功' : '调解不成功';
      closedAt = Math.min(spec.at + r.int(1, 30) * DAY + r.int(9, 17) * HOUR, asOfMs - HOUR);
    }
    const updated = Math.min(asOfMs - 60_000, (closedAt ?? spec.at) + r.int(0, 48) * HOUR);
    const aw = writePerson(r, rates, spec.applicant);
    const bw = writePerson(r, rates, spec.respondent);
    const aAddr = writeAddress(r, rates, geo, spec.applicant.household.dwelling, 'justice');
    const bAddr = writeAddress(r, rates, geo, spec.respondent.household.dwelling, 'justice');
    const place = writeAddress(r, rates, geo, d, 'justice');
    const amount = result === '调解成功' && spec.type !== '婚姻家庭纠纷' && r.chance(0.6) ? (r.int(2, 400) * 50).toFixed(2) : null;
    const row = (a: WrittenPerson, b: WrittenPerson): string => csvLine([
      caseNo, slashDate(spec.at), spec.type, spec.fromIncident ? `公安机关移交：${spec.fromIncident.summary}` : r.pick(SUMMARIES[spec.type]), a.name, sexText(a), a.idNumber, a.phone, aAddr.text,
      b.name, sexText(b), b.idNumber, b.phone, bAddr.text, place.text, org, MEDIATION_LEVELS[level],
      pickName(r, r.chance(0.5) ? 'M' : 'F', r.int(1955, 1990)), spec.fromIncident ? '公安移交' : r.weighted([['当事人申请', 6], ['排查发现', 3], ['信访转办', 1]] as const),
      spec.fromIncident?.jqbh ?? null, status, result, amount, closedAt ? slashDate(closedAt) : null, localDateTime(updated),
    ].map((v) => (v === '' ? null : v)));
    this.mediationFile().write(row(aw, bw));
    const chain = spec.chain ? { chain: spec.chain } : {};
    this.ctx.events.add({ department: 'JUSTICE', stream: 'mediation_cases', key: caseNo, occurredAt: isoCst(spec.at), address: place.text, gridCode: d.grid.code, placeKey: dwellingKey(d), ...chain });
    this.ctx.truth.add(spec.applicant, { department: 'JUSTICE', stream: 'mediation_cases', key: caseNo, mention: '申请人', role: '申请人', ...truthAddress(spec.applicant.household.dwelling, aAddr.text, aAddr.variant), ...chain, noise: noiseWith(aw, aAddr.variant) });
    this.ctx.truth.add(spec.respondent, { department: 'JUSTICE', stream: 'mediation_cases', key: caseNo, mention: '被申请人', role: '被申请人', ...truthAddress(spec.respondent.household.dwelling, bAddr.text, bAddr.variant), ...chain, noise: noiseWith(bw, bAddr.variant) });
    return { caseNo, failed: result === '调解不成功' || status !== '已结案', closedAt };
  }

  /** A person under community correction: one roster row (held until the roster file is written). */
  correction(r: Random, p: Person): void {
    const { geo, rates, asOfMs } = this.ctx;
    const d = p.household.dwelling;
    const key = `SQJZ${d.grid.community.street.district.code}${String(this.corrections.length + 1).padStart(6, '0')}`;
    const w = writePerson(r, rates, p);
    const addr = writeAddress(r, rates, geo, d, 'justice');
    const months = r.pick([6, 8, 10, 12, 18, 24, 36]);
    const start = asOfMs - r.int(10, months * 30 + 200) * DAY;
    const end = start + months * 30 * DAY;
    const status = end < asOfMs ? '解除矫正' : r.chance(0.02) ? '收监执行' : '在矫';
    const type = r.weighted(CORRECTION_TYPES);
    const sentence = type === '管制' ? `管制${months}个月` : `有期徒刑${Math.max(6, months - r.int(0, 6))}个月${type === '缓刑' ? `，缓刑${months}个月` : ''}`;
    const birth = w.birthDate ? new Date(`${w.birthDate}T00:00:00Z`) : null;
    this.corrections.push([
      key, w.name, sexText(w), ETHNICITY[p.ethnicity] ?? '汉族', w.idNumber, birth, p.hukou === 'local' ? `${geo.cityName}${d.grid.community.street.district.name}` : '外省市',
      addr.text, type, r.pick(CRIMES), sentence, new Date(`${localDate(start)}T00:00:00Z`), new Date(`${localDate(end)}T00:00:00Z`), status,
      r.weighted([['普管', 7], ['严管', 2], ['宽管', 1]] as const), justiceOffice(d), w.phone, localDateTime(Math.min(asOfMs - 60_000, Math.max(start, asOfMs - r.int(1, 60) * DAY))),
    ]);
    this.ctx.truth.add(p, { department: 'JUSTICE', stream: 'correction_subjects', key, role: '矫正对象', ...truthAddress(d, addr.text, addr.variant), noise: noiseWith(w, addr.variant) });
  }
}

function sexText(w: WrittenPerson): string | null {
  return w.sex ? (w.sex === 'M' ? '男' : '女') : null;
}

/** Write the correction roster as XLSX (one sheet, the roster's Chinese headers, dates as Excel dates). */
export async function writeCorrectionsXlsx(file: string, rows: unknown[][]): Promise<void> {
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: file, useStyles: true });
  wb.creator = '社区矫正信息管理系统';
  const ws = wb.addWorksheet('社区矫正对象花名册');
  ws.columns = CORRECTION_HEADERS.map((h) => ({
    header: h, key: h, width: h.includes('日期') ? 12 : h === '居住地' ? 40 : 16,
    ...(h.includes('日期') ? { style: { numFmt: 'yyyy-mm-dd' } } : {}),
  }));
  for (const row of rows) ws.addRow(row).commit();
  ws.commit();
  await wb.commit();
}
