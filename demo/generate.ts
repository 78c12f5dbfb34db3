import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { buildGeography, buildingsOfGrid, dwellingKey, standardAddress, type Dwelling, type Geography } from './geography';
import { DEFAULT_NOISE, type NoiseRates } from './noise';
import { populatedGrids, PopulationBuilder, type Household, type Person } from './population';
import { rng, type Random } from './random';
import { REGISTER_COLUMNS, registerCsvLine, registerRow, unpopulatedRegisterGrids } from './register';
import { CivilSource } from './sources/civil';
import { poisson, type GenContext, type TruthRecord } from './sources/common';
import { JusticeSource, writeCorrectionsXlsx, type DisputeType } from './sources/justice';
import { PetitionSource } from './sources/petition';
import { POLICE_COLUMNS, PoliceSource, type IncidentParty, type IncidentType } from './sources/police';
import { DAY, fromLocalDate, HOUR } from './time';
import { csvLine, LineWriter } from './writers';

/**
 * The demo data generator: `npm run demo:generate -- --out DIR [--seed N] [--persons N] [--as-of YYYY-MM-DD]`.
 *
 * Streams one grid at a time: the grid's households and persons, every department's records about them
 * (police register and incidents, civil-affairs assistance and care, justice mediation and corrections,
 * petitions), the cross-department chains among them, and their lines of `truth.jsonl` — then flushes and
 * forgets the grid. Memory stays bounded whatever the size; the output is the same for the same options.
 *
 * Output (see demo/README.md for every column):
 *   police/t_hjxx.csv, t_ldrk.csv, t_jqxx.csv, t_jq_ry.csv   UTF-8 CSV with header, for COPY
 *   civil/jz_family.tsv, jz_member.tsv, jz_grant.tsv, yl_service.tsv   LOAD DATA format (tab, \N = NULL)
 *   justice/mediation_cases_YYYYMMDD_NNN.csv (GBK), justice/correction_subjects_YYYYMMDD.xlsx
 *   petition/petitions.jsonl
 *   register/buildings.csv   the standard-address register (标准地址库): every urban building of the city and the
 *                            houses of the populated villages
 *   truth.jsonl (per person), events.jsonl (per event record: its scene and grid), manifest.json
 */
export interface EventRates {
  /** Police incidents per person over the three years of history. */
  incidents: number;
  /** Share of dispute incidents handed to people's mediation (the start of a chain). */
  incidentToMediation: number;
  /** Share of chained mediation cases that go on to a petition. */
  mediationToPetition: number;
  /** Mediation cases per person not coming from the police. */
  mediation: number;
  /** Petitions per person not coming from a chain. */
  petitions: number;
}

export const DEFAULT_EVENT_RATES: Readonly<EventRates> = Object.freeze({
  incidents: 0.06, incidentToMediation: 0.4, mediationToPetition: 0.35, mediation: 0.008, petitions: 0.006,
});

export interface GenerateOptions {
  out: string;
  seed?: number;
  persons?: number;
  /** The day the history ends (YYYY-MM-DD). Fixed by default so a seed always gives the same files. */
  asOf?: string;
  cityCode?: string;
  noise?: Partial<NoiseRates>;
  events?: Partial<EventRates>;
  /** Rows per mediation CSV file before a new one is started. */
  mediationFileRows?: number;
  /** A geography already built for this seed (saves a second read of the division tables). */
  geography?: Geography;
  /**
   * What register/buildings.csv holds: 'city' (default) every urban building of the city plus the houses of the
   * populated villages; 'populated' only the buildings of the populated grids (smaller, for quick tests).
   */
  registerScope?: 'city' | 'populated';
}

export interface Manifest {
  generator: 'tonglan-demo';
  version: 1;
  seed: number;
  persons: number;
  households: number;
  asOf: string;
  cityCode: string;
  cityName: string;
  grids: number;
  noise: NoiseRates;
  events: EventRates;
  counts: Record<string, number>;
  files: Record<string, string[]>;
  chains: number;
}

export const DEFAULT_SEED = 20261122;
export const DEFAULT_AS_OF = '2026-11-20';

/** The truth of one grid's persons, collected while the grid is generated and written when it is done. */
class TruthBatch {
  readonly records = new Map<Person, TruthRecord[]>();
  add(person: Person, record: TruthRecord): void {
    const list = this.records.get(person);
    if (list) list.push(record); else this.records.set(person, [record]);
  }
}

export async function generate(options: GenerateOptions): Promise<Manifest> {
  const seed = options.seed ?? DEFAULT_SEED;
  const persons = options.persons ?? 3000;
  const asOf = options.asOf ?? DEFAULT_AS_OF;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(asOf)) throw new Error(`generate: asOf must be YYYY-MM-DD, got "${asOf}"`);
  if (!Number.isInteger(persons) || persons < 1) throw new Error(`generate: persons must be a positive integer, got ${persons}`);
  const rates: NoiseRates = { ...DEFAULT_NOISE, ...options.noise };
  const events: EventRates = { ...DEFAULT_EVENT_RATES, ...options.events };
  const out = path.resolve(options.out);
  const geo = options.geography ?? await buildGeography({ seed, cityCode: options.cityCode });
  const asOfMs = fromLocalDate(asOf);
  const startMs = asOfMs - 3 * 365 * DAY;
  const stamp = asOf.replace(/-/g, '');

  // Files of an earlier run whose names vary (the justice drops) are removed; every other output file is
  // overwritten. Nothing else in DIR is touched.
  await mkdir(path.join(out, 'justice'), { recursive: true });
  // Live changes' truth belongs to the systems seeded from an earlier run.
  await rm(path.join(out, 'truth-live.jsonl'), { force: true });
  for (const f of await readdir(path.join(out, 'justice'))) {
    if (/^(mediation_cases_.*\.csv|correction_subjects_.*\.xlsx)$/.test(f)) await rm(path.join(out, 'justice', f));
  }
  const w = {
    t_hjxx: await LineWriter.open(path.join(out, 'police/t_hjxx.csv')),
    t_ldrk: await LineWriter.open(path.join(out, 'police/t_ldrk.csv')),
    t_jqxx: await LineWriter.open(path.join(out, 'police/t_jqxx.csv')),
    t_jq_ry: await LineWriter.open(path.join(out, 'police/t_jq_ry.csv')),
    jz_family: await LineWriter.open(path.join(out, 'civil/jz_family.tsv')),
    jz_member: await LineWriter.open(path.join(out, 'civil/jz_member.tsv')),
    jz_grant: await LineWriter.open(path.join(out, 'civil/jz_grant.tsv')),
    yl_service: await LineWriter.open(path.join(out, 'civil/yl_service.tsv')),
    petitions: await LineWriter.open(path.join(out, 'petition/petitions.jsonl')),
    truth: await LineWriter.open(path.join(out, 'truth.jsonl')),
    events: await LineWriter.open(path.join(out, 'events.jsonl')),
    buildings: await LineWriter.open(path.join(out, 'register/buildings.csv')),
  };
  w.buildings.write(csvLine(REGISTER_COLUMNS));
  for (const [table, columns] of Object.entries(POLICE_COLUMNS)) w[table as keyof typeof POLICE_COLUMNS].write(csvLine(columns));

  const mediationFiles: string[] = [];
  let mediationRows = 0;
  let mediation = await openMediationFile();
  async function openMediationFile(): Promise<LineWriter> {
    const file = path.join(out, `justice/mediation_cases_${stamp}_${String(mediationFiles.length + 1).padStart(3, '0')}.csv`);
    mediationFiles.push(path.basename(file));
    const writer = await LineWriter.open(file, 'gbk');
    writer.write(JusticeSource.header());
    return writer;
  }

  let batch = new TruthBatch();
  const ctx: GenContext = {
    geo, seed, rates, asOfMs, startMs, truth: { add: (p, rec) => batch.add(p, rec) }, events: { add: (e) => w.events.write(JSON.stringify(e)) },
  };
  const police = new PoliceSource(ctx, w);
  const civil = new CivilSource(ctx, w);
  const justice = new JusticeSource(ctx, () => mediation);
  const petition = new PetitionSource(ctx, w.petitions);
  const population = new PopulationBuilder(geo, seed, asOf);
  const grids = populatedGrids(geo, seed, persons);
  let households = 0;
  let chains = 0;
  let chainSerial = 0;
  const mediationLimit = options.mediationFileRows ?? 50_000;

  for (const { grid, persons: n } of grids) {
    batch = new TruthBatch();
    const r = rng(seed, 'grid', grid.code);
    const hs = population.householdsOfGrid(grid, n);
    households += hs.length;
    // The register holds every building of the grid, occupied or not (the same buildings the households live in).
    for (const b of buildingsOfGrid(geo, grid, hs.length)) w.buildings.write(registerCsvLine(registerRow(geo, b)));
    for (const h of hs) {
      police.registerHousehold(r, h);
      civil.assistance(r, h);
      for (const p of h.members) {
        civil.careServices(r, p);
        if (p.flags.includes('correction')) justice.correction(r, p);
      }
    }
    chains += gridEvents(r, { hs, n, events, startMs, asOfMs, police, justice, petition, nextChain: () => `C${String(++chainSerial).padStart(7, '0')}` });

    for (const h of hs) {
      for (const p of h.members) w.truth.write(JSON.stringify(truthLine(geo, p, batch.records.get(p) ?? [])));
    }
    if (mediation.lines - 1 >= mediationLimit) {
      mediationRows += mediation.lines - 1;
      await mediation.close();
      mediation = await openMediationFile();
    }
    for (const writer of [...Object.values(w), mediation]) {
      if (writer.pending > 1 << 20) await writer.flush();
    }
  }
  // The rest of the city's register: the buildings of every other urban grid.
  for (const grid of options.registerScope === 'populated' ? [] : unpopulatedRegisterGrids(geo, grids.map((x) => x.grid))) {
    for (const b of buildingsOfGrid(geo, grid)) w.buildings.write(registerCsvLine(registerRow(geo, b)));
    if (w.buildings.pending > 1 << 20) await w.buildings.flush();
  }
  mediationRows += mediation.lines - 1;
  await mediation.close();
  const counts: Record<string, number> = {};
  for (const [name, writer] of Object.entries(w)) {
    await writer.close();
    counts[name] = writer.lines - (name in POLICE_COLUMNS || name === 'buildings' ? 1 : 0);
  }
  counts.mediation_cases = mediationRows;
  counts.correction_subjects = justice.corrections.length;
  const correctionFile = `correction_subjects_${stamp}.xlsx`;
  await writeCorrectionsXlsx(path.join(out, 'justice', correctionFile), justice.corrections);

  const manifest: Manifest = {
    generator: 'tonglan-demo', version: 1, seed, persons, households, asOf, cityCode: geo.cityCode, cityName: geo.cityName,
    grids: grids.length, noise: rates, events, counts, chains,
    files: {
      police: Object.keys(POLICE_COLUMNS).map((t) => `police/${t}.csv`),
      civil: ['jz_family', 'jz_member', 'jz_grant', 'yl_service'].map((t) => `civil/${t}.tsv`),
      justice: [...mediationFiles, correctionFile].map((f) => `justice/${f}`),
      petition: ['petition/petitions.jsonl'],
      register: ['register/buildings.csv'],
    },
  };
  await writeFile(path.join(out, 'manifest.json'), JSON.stringify(manifest, null, 2));
  return manifest;
}

function truthLine(geo: Geography, p: Person, records: TruthRecord[]): Record<string, unknown> {
  const d = p.household.dwelling;
  return {
    personId: p.id, idNumber: p.idNumber, name: p.name, sex: p.sex, birthDate: p.birthDate, phone: p.phone,
    householdId: p.household.id, hukou: p.hukou, flags: p.flags,
    address: { standard: standardAddress(geo, d), gridCode: d.grid.code, placeKey: dwellingKey(d), buildingId: d.house.id, lon: d.lon, lat: d.lat },
    records,
  };
}

interface GridEventContext {
  hs: Household[];
  n: number;
  events: EventRates;
  startMs: number;
  asOfMs: number;
  police: PoliceSource;
  justice: JusticeSource;
  petition: PetitionSource;
  nextChain: () => string;
}

const INCIDENT_WEIGHTS: readonly (readonly [IncidentType, number])[] = [
  ['0101', 12], ['0102', 3], ['0103', 8], ['0104', 0.5], ['0201', 5], ['0202', 1], ['0203', 0.5], ['0301', 8], ['0401', 1.5],
  ['0501', 16], ['0502', 6], ['0503', 5], ['0504', 3], ['0505', 4], ['0506', 2], ['0601', 2], ['0602', 6], ['0701', 8], ['9900', 3],
];
const DISPUTE_OF: Partial<Record<IncidentType, DisputeType>> = {
  '0501': '邻里纠纷', '0502': '婚姻家庭纠纷', '0503': '婚姻家庭纠纷', '0505': '物业纠纷', '0504': '合同纠纷', '0701': '邻里纠纷', '0506': '劳动争议纠纷',
};

/** The grid's events: police incidents, chains into mediation and petitions, and independent cases. Returns the chains made. */
function gridEvents(r: Random, g: GridEventContext): number {
  const adults = g.hs.flatMap((h) => h.members.filter((p) => p.age >= 18));
  if (!adults.length) return 0;
  let chains = 0;
  const when = (): number => g.startMs + Math.floor(r.next() * (g.asOfMs - g.startMs - HOUR));
  const other = (p: Person): Person | null => {
    const others = adults.filter((x) => x.household !== p.household);
    return others.length ? r.pick(others) : null;
  };
  const housemate = (p: Person): Person | null => {
    const others = p.household.members.filter((x) => x !== p && x.age >= 16);
    return others.length ? r.pick(others) : null;
  };

  const incidents = poisson(() => r.next(), g.n * g.events.incidents);
  for (let i = 0; i < incidents; i++) {
    const type = r.weighted(INCIDENT_WEIGHTS);
    const at = when();
    const reporter = r.pick(adults);
    let parties: IncidentParty[] = [{ person: reporter, role: '01' }];
    let place: Dwelling = reporter.household.dwelling;
    if (type === '0502' || type === '0503') {
      const mate = housemate(reporter);
      if (mate) parties.push({ person: mate, role: '02' });
    } else if (type.startsWith('05') || type === '0701' || type === '0201' || type === '0301') {
      const o = other(reporter);
      if (o) parties.push({ person: o, role: type === '0201' ? '04' : '02' });
      if (type === '0201' || type === '0301') place = r.pick(g.hs).dwelling;
    } else if (type === '0601') {
      const missing = adults.find((p) => p.flags.includes('mental_disorder')) ?? adults.find((p) => p.age >= 75);
      if (missing && missing !== reporter) {
        const family = housemate(missing);
        parties = family ? [{ person: family, role: '01' }, { person: missing, role: '02' }] : [{ person: reporter, role: '01' }, { person: missing, role: '02' }];
        place = missing.household.dwelling;
      }
    } else if (type === '0101' || type === '0102' || type === '0103' || type === '0104') {
      const both: IncidentParty[] = [{ person: reporter, role: '01' }, { person: reporter, role: '03' }];
      parties = both.slice(0, r.chance(0.5) ? 2 : 1);
    }
    const dispute = DISPUTE_OF[type];
    const respondent = parties.find((p) => p.role === '02')?.person;
    const chained = dispute !== undefined && respondent !== undefined && r.chance(g.events.incidentToMediation) && at + 2 * DAY < g.asOfMs;
    const chain = chained ? g.nextChain() : undefined;
    const incident = g.police.incident(r, { type, at, place, parties, toMediation: chained, ...(chain ? { chain } : {}) });
    if (!chained || !chain) continue;
    chains++;
    const mAt = Math.min(g.asOfMs - HOUR, at + r.int(1, 10) * DAY + r.int(0, 8) * HOUR);
    const outcome = g.justice.mediationCase(r, { type: dispute!, at: mAt, place, applicant: reporter, respondent: respondent!, fromIncident: incident, chain });
    const pFrom = outcome.closedAt ?? mAt;
    if ((outcome.failed || r.chance(0.2)) && r.chance(g.events.mediationToPetition * 2) && pFrom + 3 * DAY < g.asOfMs) {
      const pAt = Math.min(g.asOfMs - HOUR, pFrom + r.int(3, 60) * DAY);
      g.petition.petition(r, { at: pAt, place, petitioner: reporter, co: [], category: '05', relatedCaseNo: outcome.caseNo, chain });
    }
  }

  const cases = poisson(() => r.next(), g.n * g.events.mediation);
  for (let i = 0; i < cases; i++) {
    const applicant = r.pick(adults);
    const type: DisputeType = r.weighted([['邻里纠纷', 30], ['婚姻家庭纠纷', 20], ['房屋宅基地纠纷', 8], ['合同纠纷', 10], ['损害赔偿纠纷', 12], ['劳动争议纠纷', 6], ['物业纠纷', 8], ['山林土地纠纷', 2], ['其他纠纷', 4]] as const);
    const respondent = type === '婚姻家庭纠纷' ? housemate(applicant) ?? other(applicant) : other(applicant);
    if (!respondent) continue;
    g.justice.mediationCase(r, { type, at: when(), place: applicant.household.dwelling, applicant, respondent });
  }

  const petitions = poisson(() => r.next(), g.n * g.events.petitions);
  for (let i = 0; i < petitions; i++) {
    const petitioner = r.pick(adults);
    const co: Person[] = [];
    if (r.chance(0.1)) {
      for (let k = r.int(1, 3); k > 0; k--) {
        const o = other(petitioner);
        if (o && o !== petitioner && !co.includes(o)) co.push(o);
      }
    }
    const at = when();
    g.petition.petition(r, { at, place: petitioner.household.dwelling, petitioner, co });
  }
  return chains;
}

// ---------------------------------------------------------------------------------------------------------
// Command line

function parseArgs(argv: string[]): GenerateOptions {
  const opts: Partial<GenerateOptions> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    switch (arg) {
      case '--out': opts.out = value(); break;
      case '--seed': opts.seed = Number(value()); break;
      case '--persons': opts.persons = Number(value()); break;
      case '--as-of': opts.asOf = value(); break;
      case '--city': opts.cityCode = value(); break;
      default: throw new Error(`unknown argument ${arg} (use --out DIR [--seed N] [--persons N] [--as-of YYYY-MM-DD] [--city CODE])`);
    }
  }
  if (!opts.out) throw new Error('--out DIR is required');
  if (opts.seed !== undefined && !Number.isInteger(opts.seed)) throw new Error('--seed must be an integer');
  return opts as GenerateOptions;
}

if (require.main === module) {
  const started = Date.now();
  let options: GenerateOptions;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`demo:generate: ${(err as Error).message}\n`);
    process.exit(2);
  }
  generate(options).then((m) => {
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const records = Object.entries(m.counts).filter(([k]) => k !== 'truth' && k !== 'events' && k !== 'buildings').reduce((a, [, v]) => a + v, 0);
    process.stdout.write(`${JSON.stringify({ out: path.resolve(options.out), seed: m.seed, persons: m.persons, households: m.households, grids: m.grids, records, chains: m.chains, counts: m.counts, seconds: Number(seconds) })}\n`);
  }).catch((err: unknown) => {
    process.stderr.write(`demo:generate failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
