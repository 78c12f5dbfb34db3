import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { summariseRuns, type RunFigures as PairFigures } from './lib/pairs';
import { ROOT } from './lib/process';

/**
 * `npm run bench:linking:ab -- --base REV --data DIR [--pairs N] [-- ARGS FOR bench:linking]`
 *
 * This tree against another commit, by N pairs of `bench:linking` runs, which tree goes first alternating (ABBA):
 * the base is checked out into a temporary git worktree (sharing this tree's node_modules) and removed at the end.
 * Each run is `npm run bench:linking` of its own tree (its own script, flags and code). Prints each pair as it comes
 * (records/s, CPU seconds of the process and the database, page faults of both) and ends with one JSON line: medians, how
 * many pairs this tree won, the pairs' ratios and their median, for the throughput and (under `work`) for each of the
 * work figures, which the host's phases move less than the throughput (summariseRuns in bench/lib/pairs.ts). The runs
 * use the same data directory (`npx tsx demo/generate.ts --out DIR --persons 60000` makes the usual one).
 */
interface RunFigures extends PairFigures {
  f1: number;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const dash = argv.indexOf('--');
  const own = dash >= 0 ? argv.slice(0, dash) : argv;
  const passOn = dash >= 0 ? argv.slice(dash + 1) : [];
  let base: string | undefined;
  let data: string | undefined;
  let pairs = 5;
  for (let i = 0; i < own.length; i++) {
    const a = own[i]!;
    const v = () => { const x = own[++i]; if (x === undefined) throw new Error(`${a} needs a value`); return x; };
    if (a === '--base') base = v();
    else if (a === '--data') data = v();
    else if (a === '--pairs') pairs = Number(v());
    else throw new Error(`unknown argument ${a} (use --base REV --data DIR [--pairs N] [-- ARGS FOR bench:linking])`);
  }
  if (!base) throw new Error('--base REV is required (the commit to compare this tree with)');
  if (!data || !existsSync(path.join(data, 'manifest.json'))) throw new Error('--data DIR must name a generated data set (npx tsx demo/generate.ts --out DIR)');
  if (!Number.isInteger(pairs) || pairs < 1) throw new Error('--pairs must be a positive integer');
  const commit = execFileSync('git', ['rev-parse', '--verify', `${base}^{commit}`], { cwd: ROOT, encoding: 'utf8' }).trim();

  const dir = mkdtempSync(path.join(tmpdir(), 'tonglan-ab-'));
  const worktree = path.join(dir, 'base');
  execFileSync('git', ['worktree', 'add', '--detach', worktree, commit], { cwd: ROOT, stdio: 'ignore' });
  try {
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(worktree, 'node_modules'));
    process.stderr.write(`base ${commit.slice(0, 10)} in ${worktree}; ${pairs} alternating pairs on ${data}\n`);
    const results: Array<{ base: RunFigures; head: RunFigures }> = [];
    for (let i = 0; i < pairs; i++) {
      // ABBA: which tree goes first alternates, so that what a run leaves behind (dirty pages the kernel still
      // writes out, the dropped database) weighs on both trees alike.
      const headFirst = i % 2 === 1;
      const first = await runBench(headFirst ? ROOT : worktree, data, passOn);
      const second = await runBench(headFirst ? worktree : ROOT, data, passOn);
      const [b, h] = headFirst ? [second, first] : [first, second];
      results.push({ base: b, head: h });
      process.stdout.write(`pair ${i + 1}: base ${describe(b)} | this tree ${describe(h)} | ratio ${(h.recordsPerSecond / b.recordsPerSecond).toFixed(3)}\n`);
    }
    process.stdout.write(`${JSON.stringify({ benchmark: 'linking-ab', base: commit, ...summariseRuns(results) })}\n`);
  } finally {
    execFileSync('git', ['worktree', 'remove', '--force', worktree], { cwd: ROOT, stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  }
}

function describe(r: RunFigures): string {
  const cpu = r.cpuSeconds ? ` cpu ${r.cpuSeconds.process.toFixed(2)}+${r.cpuSeconds.database?.toFixed(2) ?? '?'} s` : '';
  const faults = r.kernel ? ` faults ${r.kernel.process.minorPageFaults}+${r.kernel.database?.minorPageFaults ?? '?'}` : '';
  return `${r.recordsPerSecond} records/s${cpu}${faults} F1 ${r.f1}`;
}

/** One `npm run bench:linking` in `tree`: the tree's own script (with its Node flags), bench and code. */
function runBench(tree: string, data: string, args: string[]): Promise<RunFigures> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '-s', 'bench:linking', '--', '--data', data, ...args],
      { cwd: tree, stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => { out += chunk.toString('utf8'); });
    child.on('error', reject);
    child.on('close', (code) => {
      const last = out.trimEnd().split('\n').pop() ?? '';
      if (code !== 0 || !last.startsWith('{')) return reject(new Error(`bench:linking in ${tree} exited ${code} without its JSON line`));
      resolve(JSON.parse(last) as RunFigures);
    });
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exitCode = 1;
});
