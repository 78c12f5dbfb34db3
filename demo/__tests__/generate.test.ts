import { readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { regionCodeStatus } from '../../domain/divisions';
import { validateIdNumber } from '../../domain/id-number';
import { generate } from '../generate';
import { buildGeography, type Geography } from '../geography';
import { demoRegister, readRegisterFile } from '../register';
import { HOMOPHONES } from '../names';
import type { NoiseKind } from '../noise';

interface TruthLine {
  personId: string; idNumber: string; name: string; sex: 'M' | 'F'; birthDate: string; flags: string[]; hukou: string;
  address: { gridCode: string; standard: string; buildingId: string };
  records: { department: string; stream: string; key: string; mention?: string; gridCode?: string; buildingId?: string; noise: NoiseKind[]; chain?: string; duplicateOf?: string }[];
}

function readTruth(dir: string): TruthLine[] {
  return readFileSync(path.join(dir, 'truth.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as TruthLine);
}

function textFiles(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const sub of ['police', 'civil', 'justice', 'petition', 'register', '.']) {
    for (const f of readdirSync(path.join(dir, sub))) {
      if (/\.(csv|tsv|jsonl)$/.test(f)) out[`${sub}/${f}`] = readFileSync(path.join(dir, sub, f), 'latin1');
    }
  }
  return out;
}

describe('demo data generator', () => {
  let geo: Geography;
  let tmp: string;
  beforeAll(async () => {
    geo = await buildGeography({ seed: 11 });
    tmp = await mkdtemp(path.join(os.tmpdir(), 'tl-demo-gen-'));
  });
  afterAll(async () => { await rm(tmp, { recursive: true, force: true }); });

  it('is deterministic for a seed, and a different seed gives different data', async () => {
    const a = path.join(tmp, 'a');
    const b = path.join(tmp, 'b');
    const c = path.join(tmp, 'c');
    const ma = await generate({ out: a, seed: 11, persons: 300, geography: geo });
    const mb = await generate({ out: b, seed: 11, persons: 300, geography: geo });
    expect(mb).toEqual(ma);
    expect(textFiles(b)).toEqual(textFiles(a));
    await generate({ out: c, seed: 12, persons: 300, geography: geo, registerScope: 'populated' });
    expect(readFileSync(path.join(c, 'police/t_hjxx.csv'), 'utf8')).not.toEqual(readFileSync(path.join(a, 'police/t_hjxx.csv'), 'utf8'));
    expect(ma.counts.truth).toBe(300);
    expect(readTruth(a)).toHaveLength(300);
  });

  it('makes persons with valid, unique ID numbers carrying their real birth date, sex and region', async () => {
    const truth = readTruth(path.join(tmp, 'a'));
    const ids = new Set<string>();
    for (const p of truth) {
      const v = validateIdNumber(p.idNumber, { today: new Date('2026-11-20T00:00:00Z') });
      expect(v).toMatchObject({ valid: true, length: 18, birthDate: p.birthDate, sex: p.sex });
      expect(regionCodeStatus(p.idNumber.slice(0, 6))).not.toBe('unknown');
      ids.add(p.idNumber);
      expect(p.address.gridCode).toMatch(/^5101\d{11}$/);
      expect(geo.gridByCode.has(p.address.gridCode)).toBe(true);
      for (const r of p.records) if (r.gridCode) expect(r.gridCode).toBe(p.address.gridCode);
    }
    expect(ids.size).toBe(truth.length);
    // Everybody registered with the police exactly once (plus duplicates), residents in t_hjxx, migrants in t_ldrk.
    for (const p of truth) {
      const reg = p.records.filter((r) => (r.stream === 't_hjxx' || r.stream === 't_ldrk') && !r.duplicateOf);
      expect(reg).toHaveLength(1);
      expect(reg[0]!.stream).toBe(p.hukou === 'local' ? 't_hjxx' : 't_ldrk');
    }
  });

  it('links departments through event chains at the same address with the same people', () => {
    const truth = readTruth(path.join(tmp, 'a'));
    const byChain = new Map<string, Set<string>>();
    for (const p of truth) for (const r of p.records) if (r.chain) {
      const s = byChain.get(r.chain) ?? new Set<string>();
      s.add(r.department);
      byChain.set(r.chain, s);
    }
    expect(byChain.size).toBeGreaterThan(0);
    // events.jsonl: one line per event record; the records of one chain happened at one place.
    const events = readFileSync(path.join(tmp, 'a', 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { stream: string; key: string; chain?: string; placeKey: string; gridCode: string });
    const manifest = JSON.parse(readFileSync(path.join(tmp, 'a', 'manifest.json'), 'utf8')) as { counts: Record<string, number> };
    expect(events).toHaveLength(manifest.counts.t_jqxx! + manifest.counts.mediation_cases! + manifest.counts.petitions!);
    const places = new Map<string, Set<string>>();
    for (const e of events) {
      expect(geo.gridByCode.has(e.gridCode)).toBe(true);
      expect(e.placeKey.startsWith(e.gridCode)).toBe(true);
      if (e.chain) places.set(e.chain, (places.get(e.chain) ?? new Set()).add(e.placeKey));
    }
    expect([...places.keys()].sort()).toEqual([...byChain.keys()].sort());
    for (const p of places.values()) expect(p.size).toBe(1);
    for (const depts of byChain.values()) {
      expect(depts.has('POLICE')).toBe(true);
      expect(depts.has('JUSTICE')).toBe(true);
    }
  });

  it('writes a standard-address register: every building once, inside its grid, holding every dwelling of the truth', async () => {
    const rows = await readRegisterFile(path.join(tmp, 'a', 'register', 'buildings.csv'));
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(byId.size).toBe(rows.length);
    // One canonical address per building: road + number + building unique in the district, village houses by 组 + 号.
    expect(new Set(rows.map((r) => r.address)).size).toBe(rows.length);
    expect(new Set(rows.map((r) => (r.group ? `${r.communityCode}|${r.group}|${r.number}` : `${r.districtCode}|${r.road}|${r.number}|${r.building}`))).size).toBe(rows.length);
    // 小区 names are unique within a community (a compound's buildings share its name, road and number).
    // (Checked in plain code and asserted once: the register of the whole city has ~97,000 rows.)
    const compounds = new Map<string, string>();
    const bad: string[] = [];
    for (const r of rows) {
      if (r.compound) {
        const k = `${r.communityCode}|${r.compound}`;
        if ((compounds.get(k) ?? `${r.road}|${r.number}`) !== `${r.road}|${r.number}`) bad.push(`${r.id}: compound ${r.compound} at two numbers`);
        compounds.set(k, `${r.road}|${r.number}`);
      }
      const grid = geo.gridByCode.get(r.gridCode);
      if (!grid) { bad.push(`${r.id}: unknown grid`); continue; }
      if (!(r.group ? /^成都市.+村\d+组\d+号$/ : /^成都市.+社区.+\d+号\d+栋$/).test(r.address)) bad.push(`${r.id}: address ${r.address}`);
      if (!(r.lon > grid.bbox[0] && r.lon < grid.bbox[2] && r.lat > grid.bbox[1] && r.lat < grid.bbox[3])) bad.push(`${r.id}: point outside its grid`);
    }
    expect(bad).toEqual([]);
    // Every urban grid of the city is in the register; villages only where the demo population lives.
    const registered = new Set(rows.map((r) => r.gridCode));
    expect(geo.grids.filter((g) => g.community.kind === 'community' && !registered.has(g.code))).toEqual([]);
    for (const p of readTruth(path.join(tmp, 'a'))) {
      expect(byId.get(p.address.buildingId)?.gridCode).toBe(p.address.gridCode);
      for (const r of p.records) if (r.gridCode) expect(r.buildingId).toBe(p.address.buildingId);
    }
    // The hub loads the same register at start-up without generating the data.
    const ids = demoRegister(geo, 300).map((r) => r.id);
    expect(ids.length).toBe(rows.length);
    expect(ids.join('\n') === rows.map((r) => r.id).join('\n')).toBe(true);
  });

  it('applies noise at the configured rates', async () => {
    const rates = {
      nameHomophone: 0.2, nameLookalike: 0.1, idCheckDigit: 0.08, idMissing: 0.15, id15: 0.5, fieldMissing: 0.1,
      addressVariant: 0.4, duplicate: 0.05, trailingSpace: 0.1, fullWidth: 0.05,
    };
    const dir = path.join(tmp, 'noisy');
    await generate({ out: dir, seed: 5, persons: 600, geography: geo, noise: rates, registerScope: 'populated' });
    const truth = readTruth(dir);
    const mentions = truth.flatMap((p) => p.records.map((r) => ({ p, r })));
    const rate = (kind: NoiseKind, eligible: (m: (typeof mentions)[number]) => boolean = () => true): number => {
      const pool = mentions.filter(eligible);
      return pool.filter((m) => m.r.noise.includes(kind)).length / pool.length;
    };
    const register = (m: (typeof mentions)[number]): boolean => m.r.stream === 't_hjxx' || m.r.stream === 't_ldrk';
    const hasHomophone = (m: (typeof mentions)[number]): boolean => [...m.p.name].some((c) => HOMOPHONES[c]);
    expect(mentions.length).toBeGreaterThan(1000);
    expect(rate('nameHomophone', hasHomophone)).toBeCloseTo(rates.nameHomophone, 1);
    expect(rate('idMissing', (m) => !register(m))).toBeCloseTo(rates.idMissing, 1);
    // 15-digit numbers: persons born before 1985, outside the registers, when the ID was not left out.
    expect(rate('id15', (m) => !register(m) && m.p.birthDate < '1985-01-01' && !m.r.noise.includes('idMissing'))).toBeCloseTo(rates.id15, 1);
    expect(rate('fieldMissing')).toBeCloseTo(rates.fieldMissing, 1);
    expect(rate('trailingSpace')).toBeCloseTo(rates.trailingSpace, 1);
    const withAddress = (m: (typeof mentions)[number]): boolean => m.r.gridCode !== undefined;
    expect(rate('addressVariant', withAddress)).toBeCloseTo(rates.addressVariant, 1);
    // Check digits: only where the ID is neither missing nor 15 digits.
    expect(rate('idCheckDigit', (m) => !m.r.noise.includes('idMissing') && !m.r.noise.includes('id15'))).toBeCloseTo(rates.idCheckDigit, 1);
    const regs = mentions.filter((m) => m.r.stream === 't_hjxx' || m.r.stream === 't_ldrk');
    const dups = regs.filter((m) => m.r.duplicateOf).length / regs.filter((m) => !m.r.duplicateOf).length;
    expect(dups).toBeGreaterThan(0.02);
    expect(dups).toBeLessThan(0.09);
    // With every rate at zero, no mention carries noise.
    const clean = path.join(tmp, 'clean');
    await generate({
      out: clean, seed: 5, persons: 200, geography: geo, registerScope: 'populated',
      noise: { nameHomophone: 0, nameLookalike: 0, idCheckDigit: 0, idMissing: 0, id15: 0, fieldMissing: 0, addressVariant: 0, duplicate: 0, trailingSpace: 0, fullWidth: 0 },
    });
    expect(readTruth(clean).every((p) => p.records.every((r) => r.noise.length === 0))).toBe(true);
  });
});
