import { createReadStream, existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import type { Department } from '../../domain/departments';
import type { PersonMention, PlaceMention } from '../types';

/**
 * Reads the demo generator's output (demo/generate.ts, columns in demo/README.md) into the mentions the sync
 * pipeline would hand to linking: one person mention per person a record names, keyed like the truth file
 * (stream + key + mention), and one place mention per address (with the incident's coordinates where the
 * police system recorded them). Records are returned in the order departments would sync them.
 */
export interface EvalMention {
  /** `${stream}|${key}|${mention ?? ''}`: the truth file's identity of a record's person. */
  truthKey: string;
  person: PersonMention;
  place?: PlaceMention;
}

export interface EvalSource {
  mentions: EvalMention[];
  /** Places mentioned without a person (an incident's scene with its coordinates). */
  scenes: PlaceMention[];
  files: string[];
}

const CONNECTOR = '00000000-0000-4000-8000-00000000e7a1';

/**
 * A record's id as the sync pipeline gives a new department row one: time-ordered (the layout of UUIDv7: the
 * first 48 bits grow with each record), here by the order records are read, the rest from the record's key.
 * The same (stream, key) always gets the same id within a run.
 */
export function recordIds(): (stream: string, key: string) => string {
  const ids = new Map<string, string>();
  return (stream, key) => {
    const k = `${stream}|${key}`;
    let id = ids.get(k);
    if (!id) {
      const t = (ids.size + 1).toString(16).padStart(12, '0');
      const h = createHash('md5').update(k).digest('hex');
      id = `${t.slice(0, 8)}-${t.slice(8, 12)}-7${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
      ids.set(k, id);
    }
    return id;
  };
}

/** RFC 4180 CSV lines (quoted fields may hold commas and doubled quotes; rows never span lines here). */
export function parseCsvLine(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let v = '';
      i++;
      while (i < line.length) {
        if (line[i] === '"') {
          if (line[i + 1] === '"') { v += '"'; i += 2; continue; }
          i++;
          break;
        }
        v += line[i++];
      }
      out.push(v);
      i++; // the comma
    } else {
      const j = line.indexOf(',', i);
      const end = j === -1 ? line.length : j;
      out.push(line.slice(i, end));
      i = end + 1;
    }
    if (i > line.length) break;
  }
  return out;
}

function unTsv(v: string): string | null {
  if (v === '\\N') return null;
  return v.replace(/\\([\\tnr])/g, (_, c: string) => (c === 't' ? '\t' : c === 'n' ? '\n' : c === 'r' ? '\r' : '\\'));
}

async function* lines(file: string): AsyncGenerator<string> {
  const rl = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  for await (const line of rl) if (line) yield line;
}

async function* csvRows(file: string, encoding: 'utf8' | 'gbk' = 'utf8'): AsyncGenerator<Record<string, string>> {
  let header: string[] | undefined;
  const text = encoding === 'gbk' ? iconv.decode(await readFile(file), 'gbk').split(/\r?\n/) : null;
  const source = text ?? lines(file);
  for await (const line of source) {
    if (!line) continue;
    const fields = parseCsvLine(line);
    if (!header) { header = fields; continue; }
    const row: Record<string, string> = {};
    header.forEach((h, i) => { row[h] = fields[i] ?? ''; });
    yield row;
  }
}

const nz = (v: string | null | undefined): string | null => (v == null || v === '' ? null : v);
const sexOf = (v: string | null | undefined): 'M' | 'F' | null =>
  v === '1' || v === '男' ? 'M' : v === '2' || v === '女' ? 'F' : null;
const compactDate = (v: string | null | undefined): string | null =>
  v && /^\d{8}$/.test(v) ? `${v.slice(0, 4)}-${v.slice(4, 6)}-${v.slice(6, 8)}` : nz(v);

export async function readDemoSources(dir: string): Promise<EvalSource> {
  const mentions: EvalMention[] = [];
  const scenes: PlaceMention[] = [];
  const files: string[] = [];
  const recordUuid = recordIds();
  const add = (department: Department, stream: string, key: string, mention: string | null, p: Omit<PersonMention, 'ref' | 'department' | 'sourceTable' | 'recordId' | 'recordKey' | 'connectorId'>, place?: { lon?: number | null; lat?: number | null }) => {
    const truthKey = `${stream}|${key}|${mention ?? ''}`;
    const person: PersonMention = {
      ref: truthKey, department, sourceTable: stream, recordId: recordUuid(stream, key), recordKey: key, connectorId: CONNECTOR,
      mentionKey: mention ?? '', ...p,
    };
    mentions.push({ truthKey, person, ...(p.address ? { place: { ref: truthKey, address: p.address, lon: place?.lon ?? null, lat: place?.lat ?? null } } : {}) });
  };

  // 公安: the register, migrants, incidents (scene with coordinates) and their persons.
  const police = path.join(dir, 'police');
  files.push('police/t_hjxx.csv');
  for await (const r of csvRows(path.join(police, 't_hjxx.csv'))) {
    add('POLICE', 't_hjxx', r.rkbh!, null, { idNumber: nz(r.gmsfhm), name: nz(r.xm), sex: sexOf(r.xb), birthDate: compactDate(r.csrq), phone: nz(r.lxdh), address: nz(r.hjdz) });
  }
  files.push('police/t_ldrk.csv');
  for await (const r of csvRows(path.join(police, 't_ldrk.csv'))) {
    add('POLICE', 't_ldrk', r.lsh!, null, { idNumber: nz(r.gmsfhm), name: nz(r.xm), sex: sexOf(r.xb), birthDate: compactDate(r.csrq), phone: nz(r.lxdh), address: nz(r.xzz) });
  }
  files.push('police/t_jqxx.csv', 'police/t_jq_ry.csv');
  for await (const r of csvRows(path.join(police, 't_jqxx.csv'))) {
    const lon = Number(r.jd);
    const lat = Number(r.wd);
    if (r.fsdz) scenes.push({ ref: `t_jqxx|${r.jqbh}|scene`, address: r.fsdz, lon: Number.isFinite(lon) && r.jd ? lon : null, lat: Number.isFinite(lat) && r.wd ? lat : null });
  }
  for await (const r of csvRows(path.join(police, 't_jq_ry.csv'))) {
    add('POLICE', 't_jqxx', r.jqbh!, r.ryid!, { idNumber: nz(r.gmsfhm), name: nz(r.xm), sex: sexOf(r.xb), phone: nz(r.lxdh), address: nz(r.zz) });
  }

  // 民政: assistance families, members, grants, elderly care (tab-separated, \N for NULL).
  const civil = path.join(dir, 'civil');
  const tsv = async function* (name: string, columns: string[]) {
    files.push(`civil/${name}.tsv`);
    for await (const line of lines(path.join(civil, `${name}.tsv`))) {
      const f = line.split('\t').map(unTsv);
      const row: Record<string, string | null> = {};
      columns.forEach((c, i) => { row[c] = f[i] ?? null; });
      yield row;
    }
  };
  for await (const r of tsv('jz_family', ['family_id', 'family_code', 'head_name', 'head_id_card', 'area_code', 'address', 'member_count', 'contact_tel'])) {
    add('CIVIL_AFFAIRS', 'jz_family', r.family_id!, null, { idNumber: r.head_id_card, name: r.head_name, phone: r.contact_tel, address: r.address, groupKey: `CIVIL_AFFAIRS:household:${r.family_id}` });
  }
  for await (const r of tsv('jz_member', ['member_id', 'family_id', 'member_name', 'id_card', 'sex', 'birthday'])) {
    add('CIVIL_AFFAIRS', 'jz_member', r.member_id!, null, { idNumber: r.id_card, name: r.member_name, sex: sexOf(r.sex), birthDate: nz(r.birthday), groupKey: `CIVIL_AFFAIRS:household:${r.family_id}` });
  }
  for await (const r of tsv('jz_grant', ['grant_id', 'family_id', 'id_card', 'payee_name'])) {
    add('CIVIL_AFFAIRS', 'jz_grant', r.grant_id!, null, { idNumber: r.id_card, name: r.payee_name, groupKey: `CIVIL_AFFAIRS:household:${r.family_id}` });
  }
  for await (const r of tsv('yl_service', ['service_id', 'service_no', 'elder_name', 'elder_id_card', 'service_type', 'service_date', 'provider'])) {
    add('CIVIL_AFFAIRS', 'yl_service', r.service_id!, null, { idNumber: r.elder_id_card, name: r.elder_name, groupKey: r.provider ? `CIVIL_AFFAIRS:care:${r.provider}` : null });
  }

  // 司法: mediation cases (GBK CSV files, applicant and respondent), the correction roster (XLSX).
  const justice = path.join(dir, 'justice');
  const justiceFiles = (await readdir(justice)).sort();
  for (const f of justiceFiles.filter((x) => /^mediation_cases_.*\.csv$/.test(x))) {
    files.push(`justice/${f}`);
    for await (const r of csvRows(path.join(justice, f), 'gbk')) {
      for (const role of ['申请人', '被申请人']) {
        add('JUSTICE', 'mediation_cases', r['案件编号']!, role, {
          name: nz(r[`${role}姓名`]), sex: sexOf(r[`${role}性别`]), idNumber: nz(r[`${role}身份证号码`]),
          phone: nz(r[`${role}联系电话`]), address: nz(r[`${role}住址`]),
        });
      }
    }
  }
  for (const f of justiceFiles.filter((x) => /^correction_subjects_.*\.xlsx$/.test(x))) {
    files.push(`justice/${f}`);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(path.join(justice, f));
    const ws = wb.worksheets[0]!;
    const header: string[] = [];
    ws.getRow(1).eachCell((cell, col) => { header[col] = String(cell.value ?? ''); });
    ws.eachRow((row, n) => {
      if (n === 1) return;
      const v: Record<string, unknown> = {};
      row.eachCell((cell, col) => { v[header[col]!] = cell.value; });
      const birth = v['出生日期'] instanceof Date ? (v['出生日期'] as Date).toISOString().slice(0, 10) : nz(v['出生日期'] as string);
      add('JUSTICE', 'correction_subjects', String(v['矫正对象编号']), null, {
        name: nz(v['姓名'] as string), sex: sexOf(v['性别'] as string), idNumber: v['身份证号码'] == null ? null : String(v['身份证号码']),
        birthDate: birth, phone: v['联系电话'] == null ? null : String(v['联系电话']), address: nz(v['居住地'] as string),
      });
    });
  }

  // 信访: petitions with the petitioner and co-petitioners.
  files.push('petition/petitions.jsonl');
  interface PetitionPerson { name: string | null; idCard: string | null; phone: string | null; sex: string | null; address: string | null }
  for await (const line of lines(path.join(dir, 'petition', 'petitions.jsonl'))) {
    const p = JSON.parse(line) as { petitionNo: string; petitioner: PetitionPerson; coPetitioners: PetitionPerson[] };
    const person = (x: PetitionPerson) => ({ name: x.name, idNumber: x.idCard, phone: x.phone, sex: sexOf(x.sex), address: x.address });
    add('PETITION', 'petitions', p.petitionNo, 'petitioner', person(p.petitioner));
    p.coPetitioners.forEach((c, i) => add('PETITION', 'petitions', p.petitionNo, `coPetitioners[${i}]`, person(c)));
  }
  return { mentions, scenes, files };
}

export interface TruthRecordLine { department: string; stream: string; key: string; mention?: string; gridCode?: string; placeKey?: string; noise: string[] }
export interface TruthPerson { personId: string; records: TruthRecordLine[] }

/**
 * The persons of truth.jsonl, with the records live changes added since (truth-live.jsonl, demo/live.ts):
 * a live record joins the person it names directly, or the person of the record it repeats (`sameAs`); a
 * person born live comes after the generated ones.
 */
export async function* readTruth(dir: string): AsyncGenerator<TruthPerson> {
  interface LiveLine { personId?: string; sameAs?: { stream: string; key: string; mention?: string }; record: TruthRecordLine }
  const live: LiveLine[] = [];
  const liveFile = path.join(dir, 'truth-live.jsonl');
  if (existsSync(liveFile)) for await (const line of lines(liveFile)) live.push(JSON.parse(line) as LiveLine);
  if (!live.length) {
    for await (const line of lines(path.join(dir, 'truth.jsonl'))) yield JSON.parse(line) as TruthPerson;
    return;
  }
  const recordKey = (x: { stream: string; key: string; mention?: string }) => `${x.stream}|${x.key}|${x.mention ?? ''}`;
  // Records named by a sameAs, found in the first pass (truth.jsonl, then earlier live lines).
  const wanted = new Map<string, string | null>(live.filter((l) => l.sameAs).map((l) => [recordKey(l.sameAs!), null]));
  for await (const line of lines(path.join(dir, 'truth.jsonl'))) {
    const p = JSON.parse(line) as TruthPerson;
    for (const r of p.records) if (wanted.has(recordKey(r))) wanted.set(recordKey(r), p.personId);
  }
  const extra = new Map<string, TruthRecordLine[]>();
  for (const l of live) {
    const personId = l.personId ?? (l.sameAs ? wanted.get(recordKey(l.sameAs)) : null);
    if (!personId) continue; // a repeat of a record the truth does not know: left out, as its source record is
    const list = extra.get(personId) ?? [];
    list.push(l.record);
    extra.set(personId, list);
    if (wanted.has(recordKey(l.record))) wanted.set(recordKey(l.record), personId);
  }
  for await (const line of lines(path.join(dir, 'truth.jsonl'))) {
    const p = JSON.parse(line) as TruthPerson;
    const more = extra.get(p.personId);
    if (more) { p.records.push(...more); extra.delete(p.personId); }
    yield p;
  }
  for (const [personId, records] of extra) yield { personId, records };
}
