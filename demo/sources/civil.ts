import { pickName } from '../names';
import { writeAddress, writePerson, type WrittenPerson } from '../noise';
import type { Household, Person } from '../population';
import type { Random } from '../random';
import { DAY, localDate, localDateTime } from '../time';
import { tsvLine, type LineWriter } from '../writers';
import { truthAddress, type GenContext } from './common';
import { noiseWith } from './police';

/**
 * 民政 (civil affairs): social assistance (低保 / 特困) families, their members and monthly grants, and home
 * care services for the elderly — in MariaDB, in the English-abbreviation style of provincial social
 * assistance systems (jz_ = 救助, yl_ = 养老), Chinese text for sex and relation, DATETIME update times.
 */
export const CIVIL_DDL = [
  `CREATE TABLE IF NOT EXISTS jz_family (
    family_id     BIGINT PRIMARY KEY COMMENT '家庭ID',
    family_code   VARCHAR(32) NOT NULL COMMENT '家庭编号',
    head_name     VARCHAR(50) COMMENT '户主姓名',
    head_id_card  VARCHAR(20) COMMENT '户主身份证号',
    area_code     CHAR(12) COMMENT '所属村(社区)统计用区划代码',
    address       VARCHAR(200) COMMENT '家庭住址',
    member_count  INT COMMENT '家庭人口',
    contact_tel   VARCHAR(30) COMMENT '联系电话',
    assist_type   CHAR(1) NOT NULL COMMENT '救助类型: 1 城市低保 2 农村低保 3 特困供养',
    family_status CHAR(1) NOT NULL COMMENT '状态: 1 在保 2 停保',
    approve_date  DATE COMMENT '批准日期',
    create_time   DATETIME NOT NULL,
    update_time   DATETIME NOT NULL,
    KEY idx_family_update (update_time, family_id)
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT='救助家庭'`,
  `CREATE TABLE IF NOT EXISTS jz_member (
    member_id        BIGINT PRIMARY KEY COMMENT '成员ID',
    family_id        BIGINT NOT NULL COMMENT '家庭ID',
    member_name      VARCHAR(50) COMMENT '姓名',
    id_card          VARCHAR(20) COMMENT '身份证号',
    sex              VARCHAR(2) COMMENT '性别: 男 / 女',
    birthday         DATE COMMENT '出生日期',
    relation         VARCHAR(10) COMMENT '与户主关系: 本人 配偶 子女 父母 其他',
    health_status    VARCHAR(10) COMMENT '健康状况: 健康 慢性病 重病 残疾',
    is_assist        TINYINT NOT NULL DEFAULT 1 COMMENT '是否享受救助',
    update_time      DATETIME NOT NULL,
    KEY idx_member_family (family_id),
    KEY idx_member_update (update_time, member_id)
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT='救助家庭成员'`,
  `CREATE TABLE IF NOT EXISTS jz_grant (
    grant_id      BIGINT PRIMARY KEY COMMENT '发放记录ID',
    family_id     BIGINT NOT NULL,
    id_card       VARCHAR(20) COMMENT '领取人身份证号',
    payee_name    VARCHAR(50) COMMENT '领取人姓名',
    assist_type   CHAR(1) NOT NULL,
    grant_month   CHAR(6) NOT NULL COMMENT '发放年月 YYYYMM',
    period_start  DATE NOT NULL,
    period_end    DATE NOT NULL,
    amount        DECIMAL(10,2) NOT NULL COMMENT '发放金额(元)',
    grant_status  VARCHAR(6) NOT NULL COMMENT '已发放 / 待发放 / 暂停',
    pay_date      DATE,
    update_time   DATETIME NOT NULL,
    KEY idx_grant_family (family_id),
    KEY idx_grant_update (update_time, grant_id)
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT='救助金发放'`,
  `CREATE TABLE IF NOT EXISTS yl_service (
    service_id    BIGINT PRIMARY KEY,
    service_no    VARCHAR(32) NOT NULL COMMENT '服务单号',
    elder_name    VARCHAR(50),
    elder_id_card VARCHAR(20),
    service_type  CHAR(2) NOT NULL COMMENT '01 上门探访 02 助餐 03 助洁 04 助医 05 精神慰藉 06 紧急救援',
    service_date  DATE NOT NULL,
    provider      VARCHAR(100) COMMENT '服务机构',
    staff_name    VARCHAR(50),
    duration_min  INT,
    status        VARCHAR(6) NOT NULL COMMENT '已完成 / 已预约 / 已取消',
    remark        VARCHAR(200),
    update_time   DATETIME NOT NULL,
    KEY idx_service_update (update_time, service_id)
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT='居家养老服务记录'`,
];

export const CIVIL_COLUMNS = {
  jz_family: ['family_id', 'family_code', 'head_name', 'head_id_card', 'area_code', 'address', 'member_count', 'contact_tel', 'assist_type', 'family_status', 'approve_date', 'create_time', 'update_time'],
  jz_member: ['member_id', 'family_id', 'member_name', 'id_card', 'sex', 'birthday', 'relation', 'health_status', 'is_assist', 'update_time'],
  jz_grant: ['grant_id', 'family_id', 'id_card', 'payee_name', 'assist_type', 'grant_month', 'period_start', 'period_end', 'amount', 'grant_status', 'pay_date', 'update_time'],
  yl_service: ['service_id', 'service_no', 'elder_name', 'elder_id_card', 'service_type', 'service_date', 'provider', 'staff_name', 'duration_min', 'status', 'remark', 'update_time'],
} as const;

export const ASSIST_TYPES = { '1': '城市低保', '2': '农村低保', '3': '特困供养' } as const;
export const SERVICE_TYPES = { '01': '上门探访', '02': '助餐', '03': '助洁', '04': '助医', '05': '精神慰藉', '06': '紧急救援' } as const;
const RELATION_TEXT: Record<string, string> = { '02': '本人', '10': '配偶', '20': '子女', '30': '子女', '51': '父母', '52': '父母', '99': '其他' };

export interface CivilWriters { jz_family: LineWriter; jz_member: LineWriter; jz_grant: LineWriter; yl_service: LineWriter }

/** Monthly standards (元/人/月) the demo uses: 成都 urban and rural 低保, 特困 basic living + care. */
export const STANDARDS = { urbanDibao: 1100, ruralDibao: 1000, tekun: 1430 };

export class CivilSource {
  private familySerial = 0;
  private memberSerial = 0;
  private grantSerial = 0;
  private serviceSerial = 0;

  constructor(private readonly ctx: GenContext, private readonly out: CivilWriters) {}

  /** A household known to civil affairs: a 低保 family or a person in 特困 support, with its monthly grants. */
  assistance(r: Random, h: Household): void {
    const dibao = h.members.some((p) => p.flags.includes('dibao'));
    const tekun = h.members.some((p) => p.flags.includes('tekun'));
    if (!dibao && !tekun) return;
    const { geo, rates, asOfMs, startMs } = this.ctx;
    const village = h.grid.community.kind === 'village';
    const assistType = tekun ? '3' : village ? '2' : '1';
    const head = h.members[0]!;
    const familyId = ++this.familySerial;
    const approved = startMs + r.int(-3 * 365, 30 * 30) * DAY;
    const stopped = r.chance(0.1);
    const lastMonthMs = stopped ? asOfMs - r.int(2, 12) * 30 * DAY : asOfMs;
    const addr = writeAddress(r, rates, geo, h.dwelling, 'civil');
    const hw = writePerson(r, rates, head);
    const familyCode = `${h.grid.community.code}-${new Date(approved).getUTCFullYear()}-${String(familyId).padStart(6, '0')}`;
    const updated = Math.min(asOfMs - 3600_000, lastMonthMs - r.int(0, 20) * DAY);
    this.out.jz_family.write(tsvLine([
      familyId, familyCode, hw.name, hw.idNumber, h.grid.community.code, addr.text, h.members.length, hw.phone,
      assistType, stopped ? '2' : '1', localDate(approved), localDateTime(approved), localDateTime(updated),
    ]));
    this.ctx.truth.add(head, { department: 'CIVIL_AFFAIRS', stream: 'jz_family', key: String(familyId), role: '户主', ...truthAddress(h.dwelling, addr.text, addr.variant), noise: noiseWith(hw, addr.variant) });

    for (const p of h.members) {
      const w = writePerson(r, rates, p);
      this.writeMember(r, familyId, p, w, updated);
      if (r.chance(rates.duplicate)) {
        // Entered again after a family-composition review: a second member row for the same person.
        const w2 = writePerson(r, rates, p);
        const dupOf = String(this.memberSerial);
        this.writeMember(r, familyId, p, w2, updated, dupOf);
      }
    }

    // Monthly grants from approval (or the start of history) to now or to the stop.
    const perPerson = assistType === '3' ? STANDARDS.tekun + r.int(2, 9) * 100 : r.int(35, 100) * (village ? STANDARDS.ruralDibao : STANDARDS.urbanDibao) / 100;
    const amount = Math.round(perPerson * (assistType === '3' ? 1 : h.members.length) * 2) / 2;
    const payee = head;
    let month = new Date(Math.max(approved, startMs) + 8 * 3600_000);
    month = new Date(Date.UTC(month.getUTCFullYear(), month.getUTCMonth(), 1));
    const end = new Date(lastMonthMs + 8 * 3600_000);
    while (month <= end) {
      const y = month.getUTCFullYear();
      const m = month.getUTCMonth();
      const periodStart = `${y}-${String(m + 1).padStart(2, '0')}-01`;
      const last = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
      const periodEnd = `${y}-${String(m + 1).padStart(2, '0')}-${last}`;
      const payMs = Date.parse(`${periodStart}T10:00:00+08:00`) + r.int(9, 14) * DAY;
      const paid = payMs < asOfMs;
      const grantId = ++this.grantSerial;
      const w = writePerson(r, rates, payee);
      this.out.jz_grant.write(tsvLine([
        grantId, familyId, w.idNumber, w.name, assistType, `${y}${String(m + 1).padStart(2, '0')}`, periodStart, periodEnd,
        amount.toFixed(2), paid ? '已发放' : '待发放', paid ? localDate(payMs) : null, localDateTime(paid ? payMs + 3600_000 : Math.min(asOfMs - 60_000, payMs - 5 * DAY)),
      ]));
      this.ctx.truth.add(payee, { department: 'CIVIL_AFFAIRS', stream: 'jz_grant', key: String(grantId), role: '领取人', noise: [...w.noise] });
      month = new Date(Date.UTC(y, m + 1, 1));
    }
  }

  private writeMember(r: Random, familyId: number, p: Person, w: WrittenPerson, updated: number, duplicateOf?: string): void {
    const memberId = ++this.memberSerial;
    const health = p.flags.includes('mental_disorder') ? '重病' : p.age >= 70 ? r.weighted([['健康', 4], ['慢性病', 4], ['残疾', 1]] as const) : r.weighted([['健康', 8], ['慢性病', 1], ['残疾', 1]] as const);
    this.out.jz_member.write(tsvLine([
      memberId, familyId, w.name, w.idNumber, w.sex ? (w.sex === 'M' ? '男' : '女') : null, w.birthDate, RELATION_TEXT[p.relation] ?? '其他',
      health, 1, localDateTime(updated),
    ]));
    this.ctx.truth.add(p, {
      department: 'CIVIL_AFFAIRS', stream: 'jz_member', key: String(memberId), role: '家庭成员',
      ...(duplicateOf ? { duplicateOf } : {}), noise: duplicateOf ? [...w.noise, 'duplicate'] : [...w.noise],
    });
  }

  /** Home care services over the last year for the elderly living alone, 特困 persons and everyone over 80. */
  careServices(r: Random, p: Person): void {
    if (!(p.flags.includes('elderly_alone') || p.flags.includes('tekun') || p.age >= 80)) return;
    const { rates, asOfMs } = this.ctx;
    const provider = `${p.household.grid.community.name}居家养老服务站`;
    const staff = pickName(r, 'F', r.int(1965, 1995));
    const visits = r.int(4, 12);
    for (let i = 0; i < visits; i++) {
      const day = asOfMs - r.int(0, 364) * DAY + 9 * 3600_000 + r.int(0, 8 * 60) * 60_000;
      const future = r.chance(0.04);
      const at = future ? asOfMs + r.int(1, 14) * DAY + 10 * 3600_000 : day;
      const serviceId = ++this.serviceSerial;
      const w = writePerson(r, rates, p);
      const type = r.weighted([['01', 5], ['02', 3], ['03', 2], ['04', 2], ['05', 2], ['06', 0.2]] as const);
      const status = future ? '已预约' : r.chance(0.03) ? '已取消' : '已完成';
      this.out.yl_service.write(tsvLine([
        serviceId, `YL${localDate(at).replace(/-/g, '')}${String(serviceId).padStart(7, '0')}`, w.name, w.idNumber, type, localDate(at),
        provider, staff, type === '01' || type === '05' ? r.int(30, 90) : r.int(20, 60), status,
        p.flags.includes('elderly_alone') ? '独居老人定期探访' : null, localDateTime(Math.min(at + 2 * 3600_000, asOfMs - 60_000)),
      ]));
      this.ctx.truth.add(p, { department: 'CIVIL_AFFAIRS', stream: 'yl_service', key: String(serviceId), role: '服务对象', noise: [...w.noise] });
    }
  }
}
