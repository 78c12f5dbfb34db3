import { appendFile } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type mysql from 'mysql2/promise';
import type pg from 'pg';
import { generateIdNumber } from '../domain/id-number';
import type { Logger } from '../platform/logger';
import type { GeoGrid, Geography } from './geography';
import { pickGivenName, pickMobile, pickName } from './names';
import { DEFAULT_NOISE, writePerson, type TruePerson } from './noise';
import { Random } from './random';
import { CIVIL_COLUMNS } from './sources/civil';
import { CORRECTION_HEADERS, DISPUTE_TYPES } from './sources/justice';
import { advancePetition, PETITION_CATEGORIES, petitionOrgs, type PetitionRecord } from './sources/petition';
import { INCIDENT_TYPES, type IncidentType } from './sources/police';
import { readLatestRoster, readMediationCases, writeCorrectionFile, writeMediationFile } from './systems/justice-drop';
import type { PetitionStore } from './systems/petition-store';
import { compactDate, DAY, isoCst, localDate, localDateTime, slashDate } from './time';

/**
 * Live changes in the four demo systems while the hub runs: every round, new and updated records appear in
 * each system — incidents and their status steps, register updates and births, grants and care services,
 * new mediation files and rosters now and then, petitions and their steps through the closed loop — each
 * with its update time moved forward, so incremental sync and change events have something to do.
 *
 * The persons involved come from the generated population (the first lines of truth.jsonl). Every new live
 * record that names a person is appended to `truth-live.jsonl` beside truth.jsonl (one line per record:
 * `{personId, record}`, or `{sameAs: {stream, key}, record}` when the record repeats the person of an existing
 * record, or `{personId, person, record}` for a newborn), so that linking measured on a live system stays
 * honest; `readTruth` (linking/eval/sources.ts) merges it.
 */
export interface LivePerson extends TruePerson {
  gridCode: string;
  address: string;
  buildingId?: string;
}

/** One line of truth-live.jsonl. */
export interface LiveTruthLine {
  personId?: string;
  /** The record names the same person as this existing record (truth.jsonl or an earlier live line). */
  sameAs?: { stream: string; key: string; mention?: string };
  /** A person who did not exist in the generated snapshot (a newborn). */
  person?: { idNumber: string; name: string; sex: 'M' | 'F'; birthDate: string };
  record: { department: string; stream: string; key: string; mention?: string; role?: string; address?: string; gridCode?: string; buildingId?: string; noise: string[] };
}

export interface LiveOptions {
  police: pg.Client;
  civil: mysql.Connection;
  justiceDir: string;
  store: PetitionStore;
  geo: Geography;
  truthFile: string;
  seed: number;
  log?: Logger;
  /** How many persons of the truth file to draw from. */
  poolSize?: number;
}

export interface TickReport {
  police: number;
  civil: number;
  justice: number;
  petition: number;
}

/** Read the first `limit` persons of truth.jsonl. */
export async function readPersonPool(truthFile: string, limit: number): Promise<LivePerson[]> {
  const out: LivePerson[] = [];
  const lines = createInterface({ input: createReadStream(truthFile, 'utf8'), crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line.trim()) continue;
    const t = JSON.parse(line) as { personId: string; idNumber: string; name: string; sex: 'M' | 'F'; birthDate: string; phone: string | null; address: { standard: string; gridCode: string; buildingId?: string } };
    out.push({
      id: t.personId, idNumber: t.idNumber, name: t.name, sex: t.sex, birthDate: t.birthDate, phone: t.phone, gridCode: t.address.gridCode, address: t.address.standard,
      ...(t.address.buildingId ? { buildingId: t.address.buildingId } : {}),
    });
    if (out.length >= limit) break;
  }
  lines.close();
  return out;
}

const NEXT_JQZT: Record<string, string> = { '01': '02', '02': '03', '03': '04', '04': '05' };
const LIVE_INCIDENTS: readonly (readonly [IncidentType, number])[] = [['0501', 5], ['0101', 3], ['0103', 3], ['0701', 3], ['0502', 2], ['0301', 2], ['0602', 2]];

export class LiveChanger {
  private readonly r: Random;
  private pool: LivePerson[] = [];
  private byGrid = new Map<string, LivePerson[]>();
  private openCases = new Map<string, Record<string, string | null>>();
  private caseSerial = 0;
  private petitionSerial = 0;
  private round = 0;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> = Promise.resolve();
  private hjxxCount = 0;

  constructor(private readonly o: LiveOptions) {
    this.r = new Random(`${o.seed}:live:${Date.now()}`);
  }

  async init(): Promise<void> {
    const o = this.o;
    this.pool = await readPersonPool(o.truthFile, o.poolSize ?? 2000);
    if (!this.pool.length) throw new Error(`live changes: no persons in ${o.truthFile}`);
    for (const p of this.pool) {
      const list = this.byGrid.get(p.gridCode) ?? [];
      list.push(p);
      this.byGrid.set(p.gridCode, list);
    }
    await o.police.query(`CREATE SEQUENCE IF NOT EXISTS live_serial START 900001`);
    this.hjxxCount = (await o.police.query(`SELECT count(*)::int AS n FROM t_hjxx`)).rows[0].n as number;
    const cases = await readMediationCases(o.justiceDir);
    this.caseSerial = 900_000 + cases.size;
    for (const [k, v] of cases) if (v['调解状态'] !== '已结案') this.openCases.set(k, v);
    this.petitionSerial = o.store.size;
  }

  /** Change every system once every `intervalMs`, until stop(). */
  start(intervalMs: number): void {
    const loop = (): void => {
      this.running = this.tick().catch((err: unknown) => this.o.log?.warn({ err: (err as Error).message }, 'demo live change failed'))
        .finally(() => { if (this.timer) this.timer = setTimeout(loop, intervalMs); });
    };
    this.timer = setTimeout(loop, intervalMs);
  }

  async stop(): Promise<void> {
    const t = this.timer;
    this.timer = null;
    if (t) clearTimeout(t);
    await this.running;
  }

  /** One round of changes. Returns how many records changed in each system. */
  async tick(now = Date.now()): Promise<TickReport> {
    this.round++;
    const report: TickReport = { police: 0, civil: 0, justice: 0, petition: 0 };
    report.police = await this.policeChanges(now);
    report.civil = await this.civilChanges(now);
    report.justice = await this.justiceChanges(now);
    report.petition = await this.petitionChanges(now);
    await this.flushTruth();
    return report;
  }

  private person(): LivePerson {
    return this.r.pick(this.pool);
  }

  private neighbour(p: LivePerson): LivePerson {
    const list = (this.byGrid.get(p.gridCode) ?? []).filter((x) => x.id !== p.id);
    return list.length ? this.r.pick(list) : this.person();
  }

  private truthLines: LiveTruthLine[] = [];

  private truth(line: LiveTruthLine): void {
    this.truthLines.push(line);
  }

  /** A person's record at their home address. */
  private at(p: LivePerson, rec: Omit<LiveTruthLine['record'], 'address' | 'gridCode' | 'buildingId'>): LiveTruthLine {
    return { personId: p.id, record: { ...rec, address: p.address, gridCode: p.gridCode, ...(p.buildingId ? { buildingId: p.buildingId } : {}) } };
  }

  /** Append this round's truth lines (after the records are in their systems). */
  private async flushTruth(): Promise<void> {
    if (!this.truthLines.length) return;
    const lines = this.truthLines.map((l) => `${JSON.stringify(l)}\n`).join('');
    this.truthLines = [];
    await appendFile(path.join(path.dirname(this.o.truthFile), 'truth-live.jsonl'), lines, 'utf8');
  }

  private grid(p: LivePerson): GeoGrid | undefined {
    return this.o.geo.gridByCode.get(p.gridCode);
  }

  private async policeChanges(now: number): Promise<number> {
    const { police } = this.o;
    const r = this.r;
    let changed = 0;
    const ts = localDateTime(now);
    // A new incident with its persons.
    {
      const type = r.weighted(LIVE_INCIDENTS);
      const reporter = this.person();
      const parties = type === '0501' || type === '0502' || type === '0301' ? [reporter, this.neighbour(reporter)] : [reporter];
      const serial = (await police.query(`SELECT nextval('live_serial') AS n`)).rows[0].n as number;
      const district = reporter.gridCode.slice(0, 6);
      const jqbh = `J${district}${compactDate(now)}${String(serial).padStart(6, '0')}`;
      const w = writePerson(r, DEFAULT_NOISE, reporter);
      const grid = this.grid(reporter);
      await police.query('BEGIN');
      try {
      await police.query(
        `INSERT INTO t_jqxx (jqbh, bjsj, bjfs, bjrxm, bjrdh, jqlbdm, jqlbmc, jyqk, fsdz, fsdz_xzqh, jd, wd, gxdw, cjr, jqzt, cljg, jasj, cjsj, gxsj)
         VALUES ($1, $2, '110电话', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, NULL, '01', NULL, NULL, $2, $2)`,
        [jqbh, ts, w.name, w.phone, type, INCIDENT_TYPES[type], `${INCIDENT_TYPES[type]}，报警人请求民警到场处置。`, reporter.address, district,
          grid ? ((grid.bbox[0] + grid.bbox[2]) / 2).toFixed(6) : null, grid ? ((grid.bbox[1] + grid.bbox[3]) / 2).toFixed(6) : null,
          grid ? `${this.o.geo.cityName}公安局${grid.community.street.district.name}分局${grid.community.street.name.replace(/(街道|镇|乡)$/, '')}派出所` : null],
      );
      for (let i = 0; i < parties.length; i++) {
        const pw = i === 0 ? w : writePerson(r, DEFAULT_NOISE, parties[i]!);
        await police.query(
          `INSERT INTO t_jq_ry (ryid, jqbh, xh, rylb, xm, xb, gmsfhm, lxdh, zz, gxsj) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
          [`${jqbh}${String(i + 1).padStart(2, '0')}`, jqbh, i + 1, i === 0 ? '01' : '02', pw.name, pw.sex ? (pw.sex === 'M' ? '1' : '2') : null, pw.idNumber, pw.phone, parties[i]!.address, ts],
        );
      }
      await police.query('COMMIT');
      parties.forEach((p, i) => this.truth(this.at(p, {
        department: 'POLICE', stream: 't_jqxx', key: jqbh, mention: `${jqbh}${String(i + 1).padStart(2, '0')}`, role: i === 0 ? '报警人' : '当事人',
        noise: i === 0 ? w.noise : [],
      })));
      } catch (err) {
        await police.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
      changed += 1 + parties.length;
    }
    // Open incidents move one status step (oldest change first).
    const open = await police.query(`SELECT jqbh, jqzt FROM t_jqxx WHERE jqzt <> '05' ORDER BY gxsj, jqbh LIMIT 3`);
    for (const row of open.rows as { jqbh: string; jqzt: string }[]) {
      const next = NEXT_JQZT[row.jqzt] ?? '05';
      const res = await police.query(
        `UPDATE t_jqxx SET jqzt = $2::text, gxsj = $3::timestamp, cjr = COALESCE(cjr, $4),
                cljg = CASE WHEN $2::text = '05' THEN $5 ELSE cljg END, jasj = CASE WHEN $2::text = '05' THEN $3::timestamp ELSE jasj END
          WHERE jqbh = $1`,
        [row.jqbh, next, ts, pickName(r, 'M', r.int(1975, 1998)), r.pick(['01', '02', '03', '05'])],
      );
      await police.query(`UPDATE t_jq_ry SET gxsj = $2 WHERE jqbh = $1`, [row.jqbh, ts]);
      changed += res.rowCount ?? 0;
    }
    // A register update (a new phone number) now and then, and a newborn less often.
    if (this.hjxxCount > 0 && r.chance(0.5)) {
      const res = await police.query(
        `UPDATE t_hjxx SET lxdh = $2, gxsj = $3 WHERE rkbh = (SELECT rkbh FROM t_hjxx ORDER BY rkbh OFFSET $1 LIMIT 1)`,
        [r.int(0, this.hjxxCount - 1), pickMobile(r), ts],
      );
      changed += res.rowCount ?? 0;
    }
    if (this.hjxxCount > 0 && r.chance(0.15)) {
      const head = (await police.query(`SELECT hh, xm, hjdz_xzqh, hjdz, pcs FROM t_hjxx WHERE yhzgx = '02' ORDER BY rkbh OFFSET $1 LIMIT 1`, [r.int(0, Math.max(0, Math.floor(this.hjxxCount / 3) - 1))])).rows[0] as
        { hh: string; xm: string; hjdz_xzqh: string; hjdz: string; pcs: string } | undefined;
      if (head) {
        const sex = r.chance(0.5) ? 'M' : 'F';
        const serial = (await police.query(`SELECT nextval('live_serial') AS n`)).rows[0].n as number;
        const id = generateIdNumber(head.hjdz_xzqh, localDate(now - DAY), r.int(0, 999), sex);
        const babyName = [...head.xm][0] + pickGivenName(r, sex, new Date(now).getUTCFullYear());
        const res = await police.query(
          `INSERT INTO t_hjxx (rkbh, hh, gmsfhm, xm, xb, mz, csrq, yhzgx, hjdz_xzqh, hjdz, pcs, ryzt, djrq, cjsj, gxsj)
           VALUES ($1, $2, $3, $4, $5, '01', $6, $7, $8, $9, $10, '0', $11, $12, $12) ON CONFLICT DO NOTHING`,
          [`R${head.hjdz_xzqh}${String(serial).padStart(10, '0')}`, head.hh, id, babyName,
            sex === 'M' ? '1' : '2', compactDate(now - DAY), sex === 'M' ? '20' : '30', head.hjdz_xzqh, head.hjdz, head.pcs, compactDate(now), ts],
        );
        changed += res.rowCount ?? 0;
        this.hjxxCount += res.rowCount ?? 0;
        if (res.rowCount) {
          const rkbh = `R${head.hjdz_xzqh}${String(serial).padStart(10, '0')}`;
          this.truth({
            personId: `PL${String(serial).padStart(8, '0')}`, person: { idNumber: id, name: babyName, sex, birthDate: localDate(now - DAY) },
            record: { department: 'POLICE', stream: 't_hjxx', key: rkbh, role: 'resident', address: head.hjdz, noise: [] },
          });
        }
      }
    }
    return changed;
  }

  private async civilChanges(now: number): Promise<number> {
    const { civil } = this.o;
    const r = this.r;
    const ts = localDateTime(now);
    let changed = 0;
    // A care service for an elder already served.
    const [[max]] = (await civil.query(`SELECT COALESCE(MAX(service_id), 0) AS m FROM yl_service`)) as unknown as [[{ m: number }]];
    if (max.m > 0) {
      const [rows] = await civil.query(`SELECT service_id, elder_name, elder_id_card, provider, staff_name FROM yl_service WHERE service_id >= ? ORDER BY service_id LIMIT 1`, [r.int(1, max.m)]);
      const src = (rows as { service_id: number; elder_name: string; elder_id_card: string | null; provider: string; staff_name: string }[])[0];
      if (src) {
        const id = Number(max.m) + 1;
        const cols = CIVIL_COLUMNS.yl_service;
        const [res] = await civil.query(
          `INSERT INTO yl_service (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`,
          [id, `YL${compactDate(now)}${String(id).padStart(7, '0')}`, src.elder_name, src.elder_id_card, r.pick(['01', '02', '03', '05']), localDate(now),
            src.provider, src.staff_name, r.int(20, 90), '已完成', '上门服务', ts],
        );
        changed += (res as mysql.ResultSetHeader).affectedRows;
        // The same elder as the copied record (same name and ID number as written there).
        this.truth({ sameAs: { stream: 'yl_service', key: String(src.service_id) }, record: { department: 'CIVIL_AFFAIRS', stream: 'yl_service', key: String(id), role: '服务对象', noise: [] } });
      }
    }
    // Pending grants are paid; now and then an active family gets its next month.
    const [paid] = await civil.query(
      `UPDATE jz_grant SET grant_status = '已发放', pay_date = ?, update_time = ? WHERE grant_status = '待发放' ORDER BY update_time, grant_id LIMIT 2`,
      [localDate(now), ts],
    );
    changed += (paid as mysql.ResultSetHeader).affectedRows;
    if (r.chance(0.5)) {
      const [[fmax]] = (await civil.query(`SELECT COALESCE(MAX(family_id), 0) AS m FROM jz_family`)) as unknown as [[{ m: number }]];
      const [fam] = await civil.query(
        `SELECT g.* FROM jz_grant g JOIN jz_family f ON f.family_id = g.family_id
          WHERE f.family_status = '1' AND g.family_id >= ? ORDER BY g.family_id, g.grant_month DESC LIMIT 1`,
        [r.int(1, Math.max(1, Number(fmax.m)))],
      );
      const last = (fam as Record<string, string | number | null>[])[0];
      if (last) {
        const [[gmax]] = (await civil.query(`SELECT MAX(grant_id) AS m FROM jz_grant`)) as unknown as [[{ m: number }]];
        const ym = String(last.grant_month);
        const next = new Date(Date.UTC(Number(ym.slice(0, 4)), Number(ym.slice(4)), 1));
        const y = next.getUTCFullYear();
        const m = next.getUTCMonth() + 1;
        const end = new Date(Date.UTC(y, m, 0)).getUTCDate();
        const cols = CIVIL_COLUMNS.jz_grant;
        const [res] = await civil.query(
          `INSERT IGNORE INTO jz_grant (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`,
          [Number(gmax.m) + 1, last.family_id, last.id_card, last.payee_name, last.assist_type, `${y}${String(m).padStart(2, '0')}`,
            `${y}-${String(m).padStart(2, '0')}-01`, `${y}-${String(m).padStart(2, '0')}-${end}`, last.amount, '待发放', null, ts],
        );
        changed += (res as mysql.ResultSetHeader).affectedRows;
        if ((res as mysql.ResultSetHeader).affectedRows) {
          this.truth({ sameAs: { stream: 'jz_grant', key: String(last.grant_id) }, record: { department: 'CIVIL_AFFAIRS', stream: 'jz_grant', key: String(Number(gmax.m) + 1), role: '领取人', noise: [] } });
        }
      }
    }
    return changed;
  }

  private async justiceChanges(now: number): Promise<number> {
    // A new export file every few rounds: new cases, and the next step of some open ones.
    if (this.round % 5 !== 1) return 0;
    const r = this.r;
    const rows: Record<string, string | null>[] = [];
    const ts = localDateTime(now);
    for (let i = r.int(1, 2); i > 0; i--) {
      const a = this.person();
      const b = this.neighbour(a);
      const grid = this.grid(a);
      const aw = writePerson(r, DEFAULT_NOISE, a);
      const bw = writePerson(r, DEFAULT_NOISE, b);
      this.caseSerial++;
      const caseNo = `(${localDate(now).slice(0, 4)})川${a.gridCode.slice(4, 6)}调字第${String(this.caseSerial).padStart(6, '0')}号`;
      const rec: Record<string, string | null> = {
        案件编号: caseNo, 受理日期: slashDate(now), 纠纷类型: r.pick(DISPUTE_TYPES.slice(0, 3)), 纠纷简要情况: '双方因生活琐事发生纠纷，申请调解。',
        申请人姓名: aw.name, 申请人性别: aw.sex ? (aw.sex === 'M' ? '男' : '女') : null, 申请人身份证号码: aw.idNumber, 申请人联系电话: aw.phone, 申请人住址: a.address,
        被申请人姓名: bw.name, 被申请人性别: bw.sex ? (bw.sex === 'M' ? '男' : '女') : null, 被申请人身份证号码: bw.idNumber, 被申请人联系电话: bw.phone, 被申请人住址: b.address,
        纠纷发生地: a.address, 调解组织: grid ? `${grid.community.name}人民调解委员会` : '人民调解委员会', 调解级别: '村(社区)级',
        调解员: pickName(r, 'F', r.int(1960, 1990)), 案件来源: '当事人申请', 移交单号: null, 调解状态: '已受理', 调解结果: null,
        '协议金额(元)': null, 结案日期: null, 更新时间: ts,
      };
      rows.push(rec);
      this.openCases.set(caseNo, rec);
      this.truth(this.at(a, { department: 'JUSTICE', stream: 'mediation_cases', key: caseNo, mention: '申请人', role: '申请人', noise: aw.noise }));
      this.truth(this.at(b, { department: 'JUSTICE', stream: 'mediation_cases', key: caseNo, mention: '被申请人', role: '被申请人', noise: bw.noise }));
    }
    let updates = 0;
    for (const [key, rec] of [...this.openCases].slice(0, 3)) {
      if (rows.some((x) => x['案件编号'] === key)) continue;
      const next: Record<string, string | null> = { ...rec, 更新时间: ts };
      if (rec['调解状态'] === '已受理') next['调解状态'] = '调解中';
      else {
        next['调解状态'] = '已结案';
        next['调解结果'] = r.chance(0.85) ? '调解成功' : '调解不成功';
        next['结案日期'] = slashDate(now);
        this.openCases.delete(key);
      }
      if (next['调解状态'] !== '已结案') this.openCases.set(key, next);
      rows.push(next);
      updates++;
    }
    const stamp = `${compactDate(now)}_${localDateTime(now).slice(11).replace(/:/g, '')}`;
    await writeMediationFile(this.o.justiceDir, `mediation_cases_${stamp}.csv`, rows);
    let changed = rows.length;
    // A new roster now and then: one subject's management class or status changes.
    if (this.round % 20 === 1) {
      const { rows: roster } = await readLatestRoster(this.o.justiceDir);
      if (roster.length) {
        const row = r.pick(roster);
        row[CORRECTION_HEADERS.indexOf('管理类别')] = r.pick(['严管', '普管', '宽管']);
        row[CORRECTION_HEADERS.indexOf('更新时间')] = ts;
        await writeCorrectionFile(this.o.justiceDir, `correction_subjects_${stamp}.xlsx`, roster);
        changed++;
      }
    }
    return changed;
  }

  private async petitionChanges(now: number): Promise<number> {
    const { store } = this.o;
    const r = this.r;
    let changed = 0;
    // The oldest open petitions move one step through the closed loop.
    for (const rec of store.open(2)) {
      const next = structuredClone(rec);
      if (advancePetition(r, next, Math.max(now, Date.parse(rec.updatedAt) + 1000))) {
        await store.put(next);
        changed++;
      }
    }
    if (this.round % 2 === 1) {
      const p = this.person();
      const grid = this.grid(p);
      if (grid) {
        this.petitionSerial++;
        const category = r.pick(Object.keys(PETITION_CATEGORIES)) as keyof typeof PETITION_CATEGORIES;
        const orgs = petitionOrgs(grid);
        const w = writePerson(r, DEFAULT_NOISE, p);
        const rec: PetitionRecord = {
          petitionNo: `XF${p.gridCode.slice(0, 6)}${isoCst(now).slice(0, 4)}${String(9_000_000 + this.petitionSerial).padStart(7, '0')}`,
          channel: r.pick(['来访', '来信', '网上信访', '12345转办'] as const), registeredAt: isoCst(now),
          petitioner: { name: w.name, idCard: w.idNumber, phone: w.phone, sex: w.sex ? (w.sex === 'M' ? '男' : '女') : null, address: p.address },
          coPetitioners: [], personCount: 1, category: { code: category, name: PETITION_CATEGORIES[category] },
          subject: `反映${PETITION_CATEGORIES[category]}问题`, content: '信访人反映的问题，请依法处理。', occurredAddress: p.address,
          areaCode: grid.community.street.code, targetOrg: orgs.target(category), status: '待受理', deadline: isoCst(now + 60 * DAY),
          steps: [{ seq: 1, step: '登记', at: isoCst(now), org: orgs.bureau, handler: pickName(r, 'F', r.int(1975, 1995)), opinion: '登记信访事项。' }],
          satisfaction: null, relatedCaseNo: null, updatedAt: isoCst(now), version: 1,
        };
        await store.put(rec);
        changed++;
        this.truth(this.at(p, { department: 'PETITION', stream: 'petitions', key: rec.petitionNo, mention: 'petitioner', role: '信访人', noise: w.noise }));
      }
    }
    return changed;
  }
}
