import { city, district, province } from '../../domain/divisions';
import { dwellingKey, type Dwelling } from '../geography';
import { pickName } from '../names';
import { writeAddress, writePerson, type WrittenPerson } from '../noise';
import type { Person, Household } from '../population';
import type { Random } from '../random';
import { compactDate, DAY, HOUR, isoCst, localDateTime } from '../time';
import type { LineWriter } from '../writers';
import { csvLine } from '../writers';
import { policeStation, truthAddress, type GenContext } from './common';

/**
 * 公安 (public security): the population register and the incident system, as a PostgreSQL database of their
 * own. Names follow the pinyin-initial style of police information systems (gmsfhm = 公民身份号码, xm = 姓名,
 * xb = 性别, csrq = 出生日期, gxsj = 更新时间); codes follow the national standards (GB/T 2261.1 sex, GB 3304
 * ethnicity, GB/T 4761 relation) or the system's own code tables (documented in demo/README.md).
 */
export const POLICE_DDL = `
CREATE TABLE IF NOT EXISTS t_hjxx (
  rkbh       varchar(20) PRIMARY KEY,      -- 人口编号
  hh         varchar(12) NOT NULL,         -- 户号
  gmsfhm     varchar(20) NOT NULL,         -- 公民身份号码
  xm         varchar(50) NOT NULL,         -- 姓名
  cym        varchar(50),                  -- 曾用名
  xb         char(1),                      -- 性别 GB/T 2261.1: 1 男 2 女
  mz         char(2),                      -- 民族 GB 3304
  csrq       char(8),                      -- 出生日期 YYYYMMDD
  yhzgx      char(2),                      -- 与户主关系 GB/T 4761
  hjdz_xzqh  char(6),                      -- 户籍地址行政区划代码
  hjdz       varchar(200),                 -- 户籍地址
  pcs        varchar(100),                 -- 所属派出所
  lxdh       varchar(30),                  -- 联系电话
  ryzt       char(1) NOT NULL DEFAULT '0', -- 人员状态: 0 正常 1 死亡 2 迁出 3 注销
  djrq       char(8),                      -- 登记日期 YYYYMMDD
  cjsj       timestamp NOT NULL,           -- 创建时间
  gxsj       timestamp NOT NULL            -- 更新时间
);
CREATE INDEX IF NOT EXISTS t_hjxx_gxsj ON t_hjxx (gxsj, rkbh);
CREATE INDEX IF NOT EXISTS t_hjxx_gmsfhm ON t_hjxx (gmsfhm);

CREATE TABLE IF NOT EXISTS t_ldrk (
  lsh        varchar(20) PRIMARY KEY,      -- 流水号
  gmsfhm     varchar(20) NOT NULL,
  xm         varchar(50) NOT NULL,
  xb         char(1),
  mz         char(2),
  csrq       char(8),
  hjdz_xzqh  char(6),                      -- 户籍地 (outside the city)
  hjdz       varchar(200),
  xzz        varchar(200),                 -- 现住址
  xzz_xzqh   char(6),
  jzzbh      varchar(30),                  -- 居住证编号
  djrq       char(8),
  yxqz       char(8),                      -- 有效期至
  lxdh       varchar(30),
  gxsj       timestamp NOT NULL
);
CREATE INDEX IF NOT EXISTS t_ldrk_gxsj ON t_ldrk (gxsj, lsh);

CREATE TABLE IF NOT EXISTS t_jqxx (
  jqbh       varchar(24) PRIMARY KEY,      -- 警情编号
  bjsj       timestamp NOT NULL,           -- 报警时间
  bjfs       varchar(10),                  -- 报警方式
  bjrxm      varchar(50),                  -- 报警人姓名
  bjrdh      varchar(30),                  -- 报警人电话
  jqlbdm     char(4) NOT NULL,             -- 警情类别代码
  jqlbmc     varchar(30),                  -- 警情类别名称
  jyqk       text,                         -- 简要情况
  fsdz       varchar(200),                 -- 发生地址
  fsdz_xzqh  char(6),
  jd         numeric(10, 6),               -- 经度
  wd         numeric(10, 6),               -- 纬度
  gxdw       varchar(100),                 -- 管辖单位
  cjr        varchar(50),                  -- 处警人
  jqzt       char(2) NOT NULL,             -- 警情状态
  cljg       char(2),                      -- 处理结果
  jasj       timestamp,                    -- 结案时间
  cjsj       timestamp NOT NULL,
  gxsj       timestamp NOT NULL
);
CREATE INDEX IF NOT EXISTS t_jqxx_gxsj ON t_jqxx (gxsj, jqbh);

CREATE TABLE IF NOT EXISTS t_jq_ry (
  ryid       varchar(28) PRIMARY KEY,      -- 警情编号 + 序号
  jqbh       varchar(24) NOT NULL REFERENCES t_jqxx(jqbh),
  xh         smallint NOT NULL,            -- 序号
  rylb       char(2) NOT NULL,             -- 人员类别: 01 报警人 02 当事人 03 受害人 04 嫌疑人 05 证人
  xm         varchar(50),
  xb         char(1),
  gmsfhm     varchar(20),
  lxdh       varchar(30),
  zz         varchar(200),                 -- 住址
  gxsj       timestamp NOT NULL
);
CREATE INDEX IF NOT EXISTS t_jq_ry_jqbh ON t_jq_ry (jqbh);
CREATE INDEX IF NOT EXISTS t_jq_ry_gxsj ON t_jq_ry (gxsj, ryid);

-- The exchange view the police IT offers other departments: an incident with its persons as one JSON array.
CREATE OR REPLACE VIEW v_jqxx AS
SELECT j.*, COALESCE((SELECT jsonb_agg(jsonb_build_object('ryid', r.ryid, 'rylb', r.rylb, 'xm', r.xm, 'xb', r.xb,
         'gmsfhm', r.gmsfhm, 'lxdh', r.lxdh, 'zz', r.zz) ORDER BY r.xh) FROM t_jq_ry r WHERE r.jqbh = j.jqbh), '[]'::jsonb) AS sary
  FROM t_jqxx j;
`;

export const POLICE_COLUMNS = {
  t_hjxx: ['rkbh', 'hh', 'gmsfhm', 'xm', 'cym', 'xb', 'mz', 'csrq', 'yhzgx', 'hjdz_xzqh', 'hjdz', 'pcs', 'lxdh', 'ryzt', 'djrq', 'cjsj', 'gxsj'],
  t_ldrk: ['lsh', 'gmsfhm', 'xm', 'xb', 'mz', 'csrq', 'hjdz_xzqh', 'hjdz', 'xzz', 'xzz_xzqh', 'jzzbh', 'djrq', 'yxqz', 'lxdh', 'gxsj'],
  t_jqxx: ['jqbh', 'bjsj', 'bjfs', 'bjrxm', 'bjrdh', 'jqlbdm', 'jqlbmc', 'jyqk', 'fsdz', 'fsdz_xzqh', 'jd', 'wd', 'gxdw', 'cjr', 'jqzt', 'cljg', 'jasj', 'cjsj', 'gxsj'],
  t_jq_ry: ['ryid', 'jqbh', 'xh', 'rylb', 'xm', 'xb', 'gmsfhm', 'lxdh', 'zz', 'gxsj'],
} as const;

/** 警情类别 code table of the demo incident system. */
export const INCIDENT_TYPES = {
  '0101': '盗窃', '0102': '诈骗', '0103': '电信网络诈骗', '0104': '抢劫',
  '0201': '打架斗殴', '0202': '赌博', '0203': '吸毒',
  '0301': '交通事故',
  '0401': '火灾',
  '0501': '邻里纠纷', '0502': '家庭纠纷', '0503': '婚姻纠纷', '0504': '经济纠纷', '0505': '物业纠纷', '0506': '劳资纠纷',
  '0601': '人员走失', '0602': '其他求助',
  '0701': '噪音扰民',
  '9900': '其他',
} as const;
export type IncidentType = keyof typeof INCIDENT_TYPES;

/** 警情状态 */
export const INCIDENT_STATUS = { '01': '已接警', '02': '已派警', '03': '已到场', '04': '处置中', '05': '已结案' } as const;
/** 处理结果 */
export const INCIDENT_RESULT = { '01': '当场调解', '02': '移交人民调解', '03': '受案调查', '04': '移交相关部门', '05': '批评教育', '06': '其他' } as const;
/** 人员类别 */
export const PARTY_ROLE = { '01': '报警人', '02': '当事人', '03': '受害人', '04': '嫌疑人', '05': '证人' } as const;
export type PartyRole = keyof typeof PARTY_ROLE;

const SUMMARIES: Record<IncidentType, string[]> = {
  '0101': ['报警人称其停放在楼下的电动自行车被盗。', '报警人称家中被盗，丢失现金及金饰若干。', '报警人称其放在快递柜的包裹被人冒领。'],
  '0102': ['报警人称被人以介绍工作为名骗取押金。', '报警人称购买保健品被骗。'],
  '0103': ['报警人称接到冒充客服电话，被骗转账。', '报警人称网上刷单被骗。', '报警人称被冒充公检法人员诈骗。'],
  '0104': ['报警人称在小区门口被抢走手机。'],
  '0201': ['报警人称在小区内与他人发生冲突被打伤。', '报警人称有人在楼下打架。'],
  '0202': ['群众举报某茶楼内有人聚众赌博。'],
  '0203': ['群众举报出租屋内有人吸毒。'],
  '0301': ['两辆电动自行车在路口相撞，一人受轻伤。', '小区门口机动车与行人发生刮擦。'],
  '0401': ['居民楼内电动车充电起火，已扑灭。', '厨房油锅起火，已处置。'],
  '0501': ['报警人称楼上住户漏水至其家中，双方发生争执。', '报警人称邻居长期在楼道堆放杂物，协商未果发生口角。', '报警人称与邻居因停车位发生纠纷。', '报警人称邻居装修噪音扰民，双方争吵。'],
  '0502': ['报警人称与家人因赡养老人问题发生争吵。', '报警人称家庭成员因房产分割发生纠纷。'],
  '0503': ['报警人称与配偶发生争吵，要求民警到场。', '报警人称夫妻因离婚财产问题发生纠纷。'],
  '0504': ['报警人称他人借款不还。', '报警人称购房定金纠纷。'],
  '0505': ['报警人称与物业公司因物业费发生纠纷。', '业主与物业因车辆进出发生冲突。'],
  '0506': ['报警人称被拖欠工资，与包工头发生争执。'],
  '0601': ['报警人称其家人（精神障碍患者）走失，请求协助寻找。', '报警人称家中老人外出未归。'],
  '0602': ['报警人称被锁在门外，请求帮助。', '报警人称有老人在路边摔倒。'],
  '0701': ['报警人称楼下商铺夜间噪音扰民。', '报警人称邻居深夜大声喧哗。'],
  '9900': ['其他警情。'],
};

const SEX_CODE = { M: '1', F: '2' } as const;

export interface PoliceWriters { t_hjxx: LineWriter; t_ldrk: LineWriter; t_jqxx: LineWriter; t_jq_ry: LineWriter }

export interface IncidentParty { person: Person; role: PartyRole }

export interface IncidentSpec {
  type: IncidentType;
  at: number;
  place: Dwelling;
  parties: IncidentParty[];
  /** Hand the dispute over to people's mediation (处理结果 02). */
  toMediation?: boolean;
  chain?: string;
}

/** Police status of an incident reported at `at`, seen at `asOf`. */
function incidentProgress(r: Random, at: number, asOf: number): { status: keyof typeof INCIDENT_STATUS; closedAt: number | null; updatedAt: number } {
  const age = asOf - at;
  if (age < 2 * HOUR) return { status: r.pick(['01', '02', '03'] as const), closedAt: null, updatedAt: at + r.int(1, 30) * 60_000 };
  if (age < 3 * DAY && r.chance(0.4)) return { status: '04', closedAt: null, updatedAt: at + r.int(1, 40) * HOUR / 10 };
  const closedAt = at + r.int(1, 72) * HOUR / 2;
  return { status: '05', closedAt: Math.min(closedAt, asOf - 60_000), updatedAt: Math.min(closedAt + r.int(0, 600) * 60_000, asOf - 60_000) };
}

export class PoliceSource {
  private incidentSerial = 0;
  private hjxxSerial = 0;
  private ldrkSerial = 0;

  constructor(private readonly ctx: GenContext, private readonly out: PoliceWriters) {}

  /** 户籍 (registered residents) or 流动人口 (migrants) rows for every member of a household. */
  registerHousehold(r: Random, h: Household): void {
    const { geo, rates, asOfMs, startMs } = this.ctx;
    for (const p of h.members) {
      const w = writePerson(r, rates, p, { register: true });
      const addr = writeAddress(r, rates, geo, h.dwelling, 'police');
      const registered = Math.max(Date.parse(`${p.birthDate}T00:00:00+08:00`) + r.int(10, 300) * DAY, startMs - r.int(0, 20 * 365) * DAY);
      const updated = startMs + r.int(0, Math.floor((asOfMs - startMs) / 60_000)) * 60_000;
      const created = Math.min(updated, registered + r.int(0, 365) * DAY);
      const dup = r.chance(rates.duplicate);
      if (p.hukou === 'local') {
        const key = this.nextRkbh(h);
        this.out.t_hjxx.write(csvLine([
          key, h.no, w.idNumber ?? '', w.name, r.chance(0.01) ? pickName(r, p.sex, Number(p.birthDate.slice(0, 4)), [...p.name][0]) : null, w.sex ? SEX_CODE[w.sex] : null, p.ethnicity,
          w.birthDate ? w.birthDate.replace(/-/g, '') : null, p.relation, h.dwelling.grid.community.street.district.code, addr.text,
          policeStation(geo, h.dwelling), w.phone, '0', compactDate(registered), localDateTime(created), localDateTime(updated),
        ]));
        this.ctx.truth.add(p, { department: 'POLICE', stream: 't_hjxx', key, role: 'resident', ...truthAddress(h.dwelling, addr.text, addr.variant), noise: noiseWith(w, addr.variant) });
        if (dup) {
          // The same person registered a second time (a move between stations not cancelled): a second 人口编号.
          const dupKey = this.nextRkbh(h);
          const w2 = writePerson(r, rates, p, { register: true });
          this.out.t_hjxx.write(csvLine([
            dupKey, h.no, w2.idNumber ?? '', w2.name, null, w2.sex ? SEX_CODE[w2.sex] : null, p.ethnicity,
            w2.birthDate ? w2.birthDate.replace(/-/g, '') : null, p.relation, h.dwelling.grid.community.street.district.code, addr.text,
            policeStation(geo, h.dwelling), w2.phone, '0', compactDate(registered), localDateTime(created), localDateTime(updated),
          ]));
          this.ctx.truth.add(p, { department: 'POLICE', stream: 't_hjxx', key: dupKey, role: 'resident', duplicateOf: key, ...truthAddress(h.dwelling, addr.text, addr.variant), noise: [...noiseWith(w2, addr.variant), 'duplicate'] });
        }
      } else {
        const writeLdrk = (wp: WrittenPerson, dupOf?: string): void => {
          this.ldrkSerial++;
          const key = `L${h.dwelling.grid.community.street.district.code}${String(this.ldrkSerial).padStart(9, '0')}`;
          const origin = p.idNumber.slice(0, 6);
          this.out.t_ldrk.write(csvLine([
            key, wp.idNumber ?? '', wp.name, wp.sex ? SEX_CODE[wp.sex] : null, p.ethnicity, wp.birthDate ? wp.birthDate.replace(/-/g, '') : null,
            origin, originAddress(origin), addr.text, h.dwelling.grid.community.street.district.code,
            `${h.dwelling.grid.community.street.district.code}${String(this.ldrkSerial).padStart(10, '0')}`,
            compactDate(created), compactDate(created + 3 * 365 * DAY), wp.phone, localDateTime(updated),
          ]));
          this.ctx.truth.add(p, {
            department: 'POLICE', stream: 't_ldrk', key, role: 'migrant', ...truthAddress(h.dwelling, addr.text, addr.variant),
            ...(dupOf ? { duplicateOf: dupOf } : {}), noise: dupOf ? [...noiseWith(wp, addr.variant), 'duplicate'] : noiseWith(wp, addr.variant),
          });
          if (!dupOf && dup) writeLdrk(writePerson(r, rates, p, { register: true }), key);
        };
        writeLdrk(w);
      }
    }
  }

  private nextRkbh(h: Household): string {
    this.hjxxSerial++;
    return `R${h.dwelling.grid.community.street.district.code}${String(this.hjxxSerial).padStart(10, '0')}`;
  }

  /** A 警情 with its persons. Returns its number and summary. */
  incident(r: Random, spec: IncidentSpec): { jqbh: string; summary: string } {
    const { geo, rates, asOfMs } = this.ctx;
    this.incidentSerial++;
    const districtCode = spec.place.grid.community.street.district.code;
    const jqbh = `J${districtCode}${compactDate(spec.at)}${String(this.incidentSerial).padStart(6, '0')}`;
    const progress = incidentProgress(r, spec.at, asOfMs);
    const reporter = spec.parties.find((x) => x.role === '01') ?? spec.parties[0]!;
    const rw = writePerson(r, rates, reporter.person);
    const place = writeAddress(r, rates, geo, spec.place, 'police');
    const result = progress.status === '05'
      ? (spec.toMediation ? '02' : spec.type.startsWith('05') || spec.type === '0701' ? r.pick(['01', '05'] as const) : r.pick(['03', '04', '06'] as const))
      : null;
    const officer = pickName(r, r.chance(0.8) ? 'M' : 'F', r.int(1970, 1998));
    const summary = r.pick(SUMMARIES[spec.type]);
    this.out.t_jqxx.write(csvLine([
      jqbh, localDateTime(spec.at), r.weighted([['110电话', 8], ['现场报警', 1], ['网络报警', 1]] as const), rw.name, rw.phone,
      spec.type, INCIDENT_TYPES[spec.type], summary, place.text, districtCode,
      spec.place.lon.toFixed(6), spec.place.lat.toFixed(6), policeStation(geo, spec.place), officer, progress.status, result,
      progress.closedAt ? localDateTime(progress.closedAt) : null, localDateTime(spec.at + 60_000), localDateTime(progress.updatedAt),
    ]));
    this.ctx.events.add({
      department: 'POLICE', stream: 't_jqxx', key: jqbh, occurredAt: isoCst(spec.at), address: place.text,
      gridCode: spec.place.grid.code, placeKey: dwellingKey(spec.place), ...(spec.chain ? { chain: spec.chain } : {}),
    });
    spec.parties.forEach((party, i) => {
      const w = party === reporter ? rw : writePerson(r, rates, party.person);
      const ryid = `${jqbh}${String(i + 1).padStart(2, '0')}`;
      const home = writeAddress(r, rates, geo, party.person.household.dwelling, 'police');
      this.out.t_jq_ry.write(csvLine([
        ryid, jqbh, i + 1, party.role, w.name, w.sex ? SEX_CODE[w.sex] : null, w.idNumber, w.phone, home.text, localDateTime(progress.updatedAt),
      ]));
      this.ctx.truth.add(party.person, {
        department: 'POLICE', stream: 't_jqxx', key: jqbh, mention: ryid, role: PARTY_ROLE[party.role],
        ...truthAddress(party.person.household.dwelling, home.text, home.variant), ...(spec.chain ? { chain: spec.chain } : {}),
        noise: noiseWith(w, home.variant),
      });
    });
    return { jqbh, summary };
  }
}

/** Noise kinds of a written person plus the address variant. */
export function noiseWith(w: WrittenPerson, addressVariant: boolean): WrittenPerson['noise'] {
  return addressVariant ? [...w.noise, 'addressVariant'] : [...w.noise];
}

/** The registered address of a migrant's hometown, from the region code of their ID number. */
function originAddress(code: string): string {
  const d = district(code);
  const c = city(code.slice(0, 4));
  const p = province(code.slice(0, 2));
  return `${p?.name ?? ''}${c && c.name !== '市辖区' ? c.name : ''}${d?.name ?? ''}`;
}
