import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import mysql from 'mysql2/promise';
import { dropDatabase, withDatabase } from '../../platform/db';
import { normaliseIdNumber, upgradeIdNumber15to18, validateIdNumber } from '../../domain/id-number';
import { TEST_MYSQL_URL, TEST_PG_URL } from '../../test/support/services';
import { buildGeography, type Geography } from '../geography';
import { readTruth } from '../../linking/eval/sources';
import { LiveChanger } from '../live';
import type { NoiseKind } from '../noise';
import { seedDemoSystems, type DemoSystems } from '../seed';
import type { PetitionRecord } from '../sources/petition';
import { createPetitionApi } from '../systems/petition-api';
import { readLatestRoster, readMediationCases } from '../systems/justice-drop';
import { PetitionStore } from '../systems/petition-store';
import { isoCst, localDateTime } from '../time';

interface TruthLine {
  personId: string; idNumber: string; name: string; sex: 'M' | 'F'; birthDate: string; phone: string | null;
  address: { gridCode: string };
  records: { department: string; stream: string; key: string; mention?: string; address?: string; noise: NoiseKind[] }[];
}

/** What a source record says about one person. `undefined`: the source has no such column. */
interface Written { name: string | null; id: string | null; sex?: 'M' | 'F' | null; birthDate?: string | null; phone?: string | null; address?: string | null }

const sexOf = (v: unknown): 'M' | 'F' | null => (v === '1' || v === '男' ? 'M' : v === '2' || v === '女' ? 'F' : null);
const compact = (v: unknown): string | null => (typeof v === 'string' && /^\d{8}$/.test(v) ? `${v.slice(0, 4)}-${v.slice(4, 6)}-${v.slice(6)}` : null);

describe('demo department systems', () => {
  const suffix = randomBytes(4).toString('hex');
  const policeUrl = withDatabase(TEST_PG_URL, `tl_demo_police_${suffix}`);
  const mysqlDb = `tl_demo_civil_${suffix}`;
  const mysqlUrl = `${TEST_MYSQL_URL.replace(/\/[^/]*$/, '')}/${mysqlDb}`;
  let dir: string;
  let geo: Geography;
  let systems: DemoSystems;
  let store: PetitionStore;
  let api: ReturnType<typeof createPetitionApi>;
  let base: string;
  const token = 'test-petition-token';
  const auth = { authorization: `Bearer ${token}` };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'tl-demo-sys-'));
    geo = await buildGeography({ seed: 3 });
    systems = await seedDemoSystems({ seed: 3, persons: 300, policeUrl, mysqlUrl, dir, asOf: '2026-11-20', geography: geo, events: { petitions: 0.06, mediation: 0.03 } });
    store = await PetitionStore.open(systems.petitionFile);
    api = createPetitionApi({ store, token, rateLimitPerSecond: 0 });
    await api.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}/api/v1`;
  });

  afterAll(async () => {
    await api?.close();
    await systems?.close();
    await dropDatabase(policeUrl).catch(() => undefined);
    const admin = await mysql.createConnection({ uri: TEST_MYSQL_URL });
    await admin.query(`DROP DATABASE IF EXISTS \`${mysqlDb}\``);
    await admin.end();
    await rm(dir, { recursive: true, force: true });
  });

  async function getJson(url: string, headers: Record<string, string> = auth): Promise<{ status: number; body: any }> {
    const res = await fetch(url, { headers });
    return { status: res.status, body: await res.json() };
  }

  it('loads each system with the generated counts, seeding only once', async () => {
    const counts = systems.manifest.counts;
    expect(systems.seeded).toEqual(['police', 'civil', 'justice', 'petition']);
    for (const t of ['t_hjxx', 't_ldrk', 't_jqxx', 't_jq_ry']) {
      const { rows } = await systems.police.query(`SELECT count(*)::int AS n FROM ${t}`);
      expect(rows[0].n).toBe(counts[t]);
    }
    for (const t of ['jz_family', 'jz_member', 'jz_grant', 'yl_service']) {
      const [rows] = await systems.civil.query(`SELECT COUNT(*) AS n FROM ${t}`);
      expect(Number((rows as { n: number }[])[0]!.n)).toBe(counts[t]);
    }
    expect((await readMediationCases(systems.justiceDir)).size).toBe(counts.mediation_cases);
    expect((await readLatestRoster(systems.justiceDir)).rows).toHaveLength(counts.correction_subjects!);
    expect(store.size).toBe(counts.petitions);

    const again = await seedDemoSystems({ seed: 3, persons: 300, policeUrl, mysqlUrl, dir, geography: geo });
    expect(again.seeded).toEqual([]);
    await again.close();
  });

  it('holds in every system exactly what truth.jsonl says, noise included', async () => {
    // Every source record, fetched through its own protocol, by key (and mention).
    const src = new Map<string, Written>();
    const put = (stream: string, key: string, w: Written): void => { src.set(`${stream}|${key}`, w); };
    for (const r of (await systems.police.query(`SELECT * FROM t_hjxx`)).rows) put('t_hjxx', r.rkbh, { name: r.xm, id: r.gmsfhm, sex: sexOf(r.xb), birthDate: compact(r.csrq), phone: r.lxdh, address: r.hjdz });
    for (const r of (await systems.police.query(`SELECT * FROM t_ldrk`)).rows) put('t_ldrk', r.lsh, { name: r.xm, id: r.gmsfhm, sex: sexOf(r.xb), birthDate: compact(r.csrq), phone: r.lxdh, address: r.xzz });
    for (const r of (await systems.police.query(`SELECT * FROM t_jq_ry`)).rows) put('t_jqxx', `${r.jqbh}|${r.ryid}`, { name: r.xm, id: r.gmsfhm, sex: sexOf(r.xb), phone: r.lxdh, address: r.zz });
    const q = async (sql: string): Promise<Record<string, any>[]> => (await systems.civil.query(sql))[0] as Record<string, any>[];
    for (const r of await q('SELECT * FROM jz_family')) put('jz_family', String(r.family_id), { name: r.head_name, id: r.head_id_card, phone: r.contact_tel, address: r.address });
    for (const r of await q('SELECT * FROM jz_member')) put('jz_member', String(r.member_id), { name: r.member_name, id: r.id_card, sex: sexOf(r.sex), birthDate: r.birthday });
    for (const r of await q('SELECT * FROM jz_grant')) put('jz_grant', String(r.grant_id), { name: r.payee_name, id: r.id_card });
    for (const r of await q('SELECT * FROM yl_service')) put('yl_service', String(r.service_id), { name: r.elder_name, id: r.elder_id_card });
    for (const [key, r] of await readMediationCases(systems.justiceDir)) {
      for (const role of ['申请人', '被申请人']) {
        put('mediation_cases', `${key}|${role}`, { name: r[`${role}姓名`] ?? null, id: r[`${role}身份证号码`] ?? null, sex: sexOf(r[`${role}性别`]), phone: r[`${role}联系电话`] ?? null, address: r[`${role}住址`] ?? null });
      }
    }
    for (const row of (await readLatestRoster(systems.justiceDir)).rows) {
      const birth = row[5] instanceof Date ? (row[5] as Date).toISOString().slice(0, 10) : null;
      put('correction_subjects', String(row[0]), { name: row[1] as string, id: (row[4] as string | null) ?? null, sex: sexOf(row[2]), birthDate: birth, phone: (row[16] as string | null) ?? null, address: row[7] as string });
    }
    // Petitions through the HTTP API, every page.
    const petitions: PetitionRecord[] = [];
    for (let page = 1; ; page++) {
      const { status, body } = await getJson(`${base}/petitions?page=${page}&page_size=7`);
      expect(status).toBe(200);
      petitions.push(...body.data.items);
      if (page * 7 >= body.data.total) break;
    }
    for (const p of petitions) {
      const w = (x: PetitionRecord['petitioner']): Written => ({ name: x.name, id: x.idCard, sex: sexOf(x.sex), phone: x.phone, address: x.address });
      put('petitions', `${p.petitionNo}|petitioner`, w(p.petitioner));
      p.coPetitioners.forEach((c, i) => put('petitions', `${p.petitionNo}|coPetitioners[${i}]`, w(c)));
    }

    const truth = readFileSync(path.join(systems.generatedDir, 'truth.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as TruthLine);
    let checked = 0;
    const referenced = new Set<string>();
    for (const p of truth) {
      for (const rec of p.records) {
        const id = `${rec.stream}|${rec.key}${rec.mention && rec.stream !== 't_jqxx' ? `|${rec.mention}` : rec.mention ? `|${rec.mention}` : ''}`;
        const w = src.get(id);
        if (!w) throw new Error(`truth names ${id} (person ${p.personId}) but the system has no such record`);
        referenced.add(id);
        const where = `${id} of ${p.personId}`;
        const n = rec.noise;
        const name = (w.name ?? '').replace(/[\s\u3000]+$/, '');
        if (n.includes('nameHomophone') || n.includes('nameLookalike')) expect([where, name]).not.toEqual([where, p.name]);
        else expect([where, name]).toEqual([where, p.name]);
        const raw = w.id ?? '';
        const idn = normaliseIdNumber(raw);
        if (n.includes('idMissing')) expect([where, idn]).toEqual([where, '']);
        else if (n.includes('id15')) expect([where, upgradeIdNumber15to18(idn)]).toEqual([where, p.idNumber]);
        else if (n.includes('idCheckDigit')) {
          if (idn.length === 17) expect([where, idn, validateIdNumber(idn).reasons]).toEqual([where, p.idNumber.slice(0, 17), ['structure']]);
          else expect([where, validateIdNumber(idn).reasons]).toEqual([where, ['checkDigit']]);
        }
        else expect([where, idn]).toEqual([where, p.idNumber]);
        if (n.includes('fullWidth')) expect(raw).toMatch(/[\uff10-\uff19\uff38]/);
        if (!n.includes('fieldMissing')) {
          if (w.sex !== undefined) expect([where, w.sex]).toEqual([where, p.sex]);
          if (w.birthDate !== undefined) expect([where, w.birthDate]).toEqual([where, p.birthDate]);
          if (w.phone !== undefined) expect([where, w.phone]).toEqual([where, p.phone]);
        }
        if (rec.address !== undefined && w.address !== undefined) expect([where, w.address]).toEqual([where, rec.address]);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(600);
    // events.jsonl: every event record exists in its system, with its scene as written there.
    const scenes = new Map<string, string | null>();
    for (const r of (await systems.police.query(`SELECT jqbh, fsdz FROM t_jqxx`)).rows) scenes.set(`t_jqxx|${r.jqbh}`, r.fsdz);
    for (const [key, r] of await readMediationCases(systems.justiceDir)) scenes.set(`mediation_cases|${key}`, r['纠纷发生地'] ?? null);
    for (const p of petitions) scenes.set(`petitions|${p.petitionNo}`, p.occurredAddress);
    const events = readFileSync(path.join(systems.generatedDir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { stream: string; key: string; address: string });
    expect(events).toHaveLength(scenes.size);
    for (const e of events) expect([e.key, scenes.get(`${e.stream}|${e.key}`)]).toEqual([e.key, e.address]);
    // And no record in any system is missing from the truth.
    const unreferenced = [...src.keys()].filter((k) => !referenced.has(k));
    expect(unreferenced).toEqual([]);
  });

  it('serves police SQL incl. the exchange view, and civil SQL', async () => {
    const { rows } = await systems.police.query(`SELECT jqbh, sary FROM v_jqxx ORDER BY gxsj DESC, jqbh LIMIT 5`);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows[0].sary[0]).toHaveProperty('rylb');
    const [fam] = await systems.civil.query(`SELECT assist_type, COUNT(*) AS n FROM jz_family GROUP BY assist_type`);
    expect((fam as unknown[]).length).toBeGreaterThan(0);
    const files = readdirSync(systems.justiceDir);
    expect(files.some((f) => /^mediation_cases_\d{8}_\d{3}\.csv$/.test(f))).toBe(true);
    // GBK on disk: the header is not valid UTF-8.
    const raw = readFileSync(path.join(systems.justiceDir, files.find((f) => f.endsWith('.csv'))!));
    expect(raw.toString('utf8')).not.toContain('案件编号');
  });

  it('answers the petition API with paging, cursors, updated_since and clear errors', async () => {
    expect((await getJson(`${base}/petitions`, {})).status).toBe(401);
    expect((await getJson(`${base}/petitions`, { authorization: 'Bearer wrong-token' })).body.code).toBe(40100);
    expect((await getJson(`${base}/petitions`, { 'x-api-key': token })).status).toBe(200);
    const bad = await getJson(`${base}/petitions?page_size=9999`);
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/page_size/);
    expect((await getJson(`${base}/petitions?updated_since=yesterday`)).body.message).toMatch(/updated_since/);
    expect((await getJson(`${base}/petitions/XF000`)).status).toBe(404);
    expect((await getJson(`${base}/health`, {})).body.status).toBe('ok');

    const all = store.all();
    expect(all.length).toBeGreaterThan(8);
    const seen: string[] = [];
    let cursor = '';
    for (;;) {
      const { body } = await getJson(`${base}/petitions?cursor=${encodeURIComponent(cursor)}&limit=4`);
      seen.push(...body.data.items.map((x: PetitionRecord) => x.petitionNo));
      if (!body.data.has_more) break;
      cursor = body.data.next_cursor;
    }
    expect(seen).toEqual(all.map((x) => x.petitionNo));
    const mid = all[Math.floor(all.length / 2)]!;
    const since = await getJson(`${base}/petitions?page=1&page_size=500&updated_since=${encodeURIComponent(mid.updatedAt)}`);
    expect(since.body.data.items.every((x: PetitionRecord) => Date.parse(x.updatedAt) >= Date.parse(mid.updatedAt))).toBe(true);
    expect(since.body.data.items.map((x: PetitionRecord) => x.petitionNo)).toContain(mid.petitionNo);
    // A client that forgot to encode the `+` of the offset gets the same answer.
    const unencoded = await getJson(`${base}/petitions?page=1&page_size=500&updated_since=${mid.updatedAt}`);
    expect(unencoded.body.data.total).toBe(since.body.data.total);
    const one = await getJson(`${base}/petitions/${encodeURIComponent(mid.petitionNo)}`);
    expect(one.body.data.steps[0].step).toBe('登记');

    const limited = createPetitionApi({ store, token, rateLimitPerSecond: 2 });
    await limited.listen({ port: 0, host: '127.0.0.1' });
    const url = `http://127.0.0.1:${(limited.server.address() as AddressInfo).port}/api/v1/petitions`;
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await fetch(url, { headers: auth })).status);
    await limited.close();
    expect(statuses).toContain(429);
  });

  it('changes every system live', async () => {
    const before = {
      incidents: (await systems.police.query(`SELECT count(*)::int AS n, max(gxsj) AS g FROM t_jqxx`)).rows[0],
      services: Number(((await systems.civil.query(`SELECT COUNT(*) AS n FROM yl_service`))[0] as { n: number }[])[0]!.n),
      files: readdirSync(systems.justiceDir).length,
      petitions: store.size,
    };
    const live = new LiveChanger({
      police: systems.police, civil: systems.civil, justiceDir: systems.justiceDir, store, geo,
      truthFile: path.join(systems.generatedDir, 'truth.jsonl'), seed: 3, poolSize: 200,
    });
    await live.init();
    // Open work before the round: the oldest-changed open incident and open petition.
    const openIncident = (await systems.police.query(`SELECT jqbh, jqzt FROM t_jqxx WHERE jqzt <> '05' ORDER BY gxsj, jqbh LIMIT 1`)).rows[0] as { jqbh: string; jqzt: string } | undefined;
    const now = Date.now();
    const report = await live.tick(now);
    expect(report.police).toBeGreaterThan(0);
    expect(report.civil).toBeGreaterThan(0);
    expect(report.justice).toBeGreaterThan(0);
    expect(report.petition).toBeGreaterThan(0);
    const after = (await systems.police.query(`SELECT count(*)::int AS n FROM t_jqxx`)).rows[0];
    expect(after.n).toBe(before.incidents.n + 1);
    const { rows: fresh } = await systems.police.query(`SELECT jqbh FROM t_jqxx WHERE gxsj > $1`, [before.incidents.g]);
    expect(fresh.length).toBeGreaterThanOrEqual(1);
    expect(Number(((await systems.civil.query(`SELECT COUNT(*) AS n FROM yl_service`))[0] as { n: number }[])[0]!.n)).toBe(before.services + 1);
    expect(readdirSync(systems.justiceDir).length).toBeGreaterThan(before.files);
    expect(store.size).toBe(before.petitions + 1);
    if (openIncident) {
      const { rows: [moved] } = await systems.police.query(`SELECT jqzt FROM t_jqxx WHERE jqbh = $1`, [openIncident.jqbh]);
      expect(Number(moved.jqzt)).toBe(Number(openIncident.jqzt) + 1);
    }
    // Every new record naming a person is in the live truth, which the evaluation's truth reader merges.
    const liveTruth = readFileSync(path.join(systems.generatedDir, 'truth-live.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { personId?: string; sameAs?: unknown; record: { stream: string; key: string; gridCode?: string } });
    const newIncident = (fresh as { jqbh: string }[]).map((x) => x.jqbh);
    expect(liveTruth.some((l) => l.record.stream === 't_jqxx' && newIncident.includes(l.record.key) && l.personId && l.record.gridCode)).toBe(true);
    expect(liveTruth.filter((l) => l.record.stream === 'yl_service' && l.sameAs)).toHaveLength(1);
    const merged: Array<{ personId: string; records: Array<{ stream: string; key: string }> }> = [];
    for await (const p of readTruth(systems.generatedDir)) merged.push(p);
    const petitionLine = liveTruth.find((l) => l.record.stream === 'petitions')!;
    expect(merged.find((p) => p.personId === petitionLine.personId)!.records.map((r) => r.key)).toContain(petitionLine.record.key);
    const serviceOwner = merged.filter((p) => p.records.some((r) => r.stream === 'yl_service' && r.key === liveTruth.find((l) => l.record.stream === 'yl_service')!.record.key));
    expect(serviceOwner).toHaveLength(1);
    // The petition registered in this round (登记, version 1) ...
    const fresh1 = store.all().filter((p) => p.registeredAt === isoCst(now));
    expect(fresh1).toHaveLength(1);
    expect(fresh1[0]!).toMatchObject({ status: '待受理', version: 1 });

    // The new petition is what an incremental reader asking for changes since just before the tick gets.
    const since = new Date(now - 1000).toISOString();
    const { body } = await getJson(`${base}/petitions?page=1&page_size=100&updated_since=${encodeURIComponent(since)}`);
    expect(body.data.items.length).toBeGreaterThanOrEqual(1);
    // A second round moves the new incident one status step forward eventually; petitions keep advancing.
    const report2 = await live.tick(now + 5000);
    expect(report2.police + report2.civil + report2.petition).toBeGreaterThan(0);
    // The incident opened in the first round is open in the second, so at least one incident took a status step.
    const { rows: [stepped] } = await systems.police.query(
      `SELECT count(*)::int AS n FROM t_jqxx WHERE gxsj = $1::timestamp AND jqzt <> '01'`, [localDateTime(now + 5000)]);
    expect(stepped.n).toBeGreaterThanOrEqual(1);
    // ... is accepted (受理) in a later round (the oldest open petitions move first).
    for (let round = 3; round < 20 && store.get(fresh1[0]!.petitionNo)!.version === 1; round++) await live.tick(now + round * 5000);
    expect(store.get(fresh1[0]!.petitionNo)).toMatchObject({ status: '已受理', version: 2 });
    expect(store.get(fresh1[0]!.petitionNo)!.steps.map((x) => x.step)).toEqual(['登记', '受理']);
    await live.stop();
  });
});
