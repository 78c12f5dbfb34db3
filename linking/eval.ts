import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generate } from '../demo/generate';
import { runEvaluation, type EvalResult } from './eval/run';

/**
 * `npm run linking:eval -- [--data DIR] [--batch N] [--keep-db]`
 *
 * Linking quality against the generator's ground truth. Without --data, generates the default demo data set
 * into a temporary directory first. Prints a table, then as its LAST line one JSON object with precision,
 * recall, f1, gridAccuracy and recordsPerSecond (and more).
 */
interface Args { data?: string; batch?: number; keepDb: boolean }

function parseArgs(argv: string[]): Args {
  const args: Args = { keepDb: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--data') args.data = value();
    else if (a === '--batch') args.batch = Number(value());
    else if (a === '--keep-db') args.keepDb = true;
    else throw new Error(`unknown argument ${a} (use [--data DIR] [--batch N] [--keep-db])`);
  }
  if (args.batch !== undefined && (!Number.isInteger(args.batch) || args.batch < 1)) throw new Error('--batch must be a positive integer');
  return args;
}

export function databaseBaseUrl(): string {
  return process.env.DATABASE_URL || process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
}

export function printTable(title: string, r: EvalResult, out: (s: string) => void): void {
  const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
  out(title);
  const rows: Array<[string, string]> = [
    ['person mentions linked', String(r.records)],
    ['persons (linked / true)', `${r.persons} / ${r.truePersons}`],
    ['pairs (correct / predicted / true)', `${r.correctPairs} / ${r.predictedPairs} / ${r.truePairs}`],
    ['precision', pct(r.precision)],
    ['recall', pct(r.recall)],
    ['F1', pct(r.f1)],
    ['grid accuracy (exact grid)', `${pct(r.gridAccuracy)} of ${r.addresses} addresses`],
    ['community accuracy', pct(r.communityAccuracy)],
    ['review queue entries', String(r.reviews)],
    ['persons with a residence place', pct(r.residenceSet)],
    ['link methods', Object.entries(r.methods).map(([k, v]) => `${k} ${v}`).join(', ')],
    ['records missing (truth / sources)', `${r.missingFromTruth} / ${r.missingFromSources}`],
    ['time, records per second', `${r.seconds.toFixed(2)} s, ${Math.round(r.recordsPerSecond)} /s`],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) out(`  ${k.padEnd(w)}  ${v}`);
  out('  by noise (records at their person\'s main cluster):');
  for (const [k, v] of Object.entries(r.byNoise).sort()) out(`    ${k.padEnd(20)} ${String(v.correct).padStart(7)} / ${String(v.records).padEnd(7)} ${pct(v.correct / v.records)}`);
  out('  by source stream:');
  for (const [k, v] of Object.entries(r.byStream).sort()) out(`    ${k.padEnd(20)} ${String(v.correct).padStart(7)} / ${String(v.records).padEnd(7)} ${pct(v.correct / v.records)}`);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  let dir = args.data;
  let temp: string | undefined;
  if (!dir) {
    temp = await mkdtemp(path.join(tmpdir(), 'tonglan-linking-eval-'));
    dir = temp;
    process.stderr.write(`generating the default demo data set into ${dir}\n`);
    await generate({ out: dir });
  }
  try {
    const r = await runEvaluation({
      dataDir: dir, databaseUrl: databaseBaseUrl(), batchSize: args.batch, keepDatabase: args.keepDb,
      log: (l) => process.stderr.write(`${l}\n`),
    });
    printTable(`linking evaluation of ${dir}`, r, (s) => process.stdout.write(`${s}\n`));
    process.stdout.write(`${JSON.stringify({
      precision: round(r.precision), recall: round(r.recall), f1: round(r.f1), gridAccuracy: round(r.gridAccuracy),
      recordsPerSecond: Math.round(r.recordsPerSecond), communityAccuracy: round(r.communityAccuracy), records: r.records,
      persons: r.persons, truePersons: r.truePersons, reviews: r.reviews, residenceSet: round(r.residenceSet), seconds: round(r.seconds),
    })}\n`);
  } finally {
    if (temp) await rm(temp, { recursive: true, force: true });
  }
}

function round(x: number): number {
  return Math.round(x * 10000) / 10000;
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`linking:eval failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
