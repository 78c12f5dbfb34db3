/**
 * Output of every benchmark: a table for people, then exactly one JSON line (the last line of stdout) for
 * machines — `{"benchmark": name, ...figures, ratios, machine}`.
 */
import os from 'node:os';

export type Cell = string | number | null | undefined;

function show(v: Cell): string {
  if (v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v))) return '—';
  if (typeof v === 'number') return Number.isInteger(v) ? v.toLocaleString('en-US') : v.toLocaleString('en-US', { maximumFractionDigits: 2 });
  return v;
}

/** A table with right-aligned numbers; columns are the keys of the first row unless given. */
export function printTable(rows: Record<string, Cell>[], columns?: string[], out: (line: string) => void = console.log): void {
  if (!rows.length) return;
  const cols = columns ?? Object.keys(rows[0]!);
  const text = rows.map((r) => cols.map((c) => show(r[c])));
  const widths = cols.map((c, i) => Math.max(c.length, ...text.map((t) => [...t[i]!].length)));
  const numeric = cols.map((c) => rows.every((r) => typeof r[c] === 'number' || r[c] == null));
  const pad = (s: string, i: number) => {
    const fill = ' '.repeat(Math.max(0, widths[i]! - [...s].length));
    return numeric[i] ? fill + s : s + fill;
  };
  out(cols.map(pad).join('  '));
  out(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const t of text) out(t.map(pad).join('  '));
}

/** What the figures were measured on (the JSON line carries it, so figures are never read without it). */
export function machine(): Record<string, unknown> {
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    loadAverage1m: Math.round(os.loadavg()[0]! * 100) / 100,
    node: process.version,
  };
}

/** The last line of a benchmark's output. */
export function printJsonLine(benchmark: string, figures: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ benchmark, ...figures, machine: machine(), at: new Date().toISOString() })}\n`);
}
