/**
 * The shared benchmark harness, for every `bench/<name>.ts`:
 *  - `runLoad` (HTTP load with autocannon: requests/s, p50/p99, failures) and `postJson`;
 *  - `median`, `percentile`, `spread` (noise of the runs), `ratio`, `round`;
 *  - `startProcess` (a system under test in its own process, `READY <json>` protocol), `sampleProcess`
 *    (peak/median RSS and CPU seconds of a pid while work runs), `rssMiB`, `cpuSeconds`;
 *  - `printTable` (aligned table) and `printJsonLine(name, figures)` — the last line of every benchmark, with
 *    the machine it ran on (CPUs, model, memory, load average, Node version).
 * Pattern: warm up, then several runs interleaving the peers so the machine's noise falls on all alike,
 * report medians and the spread.
 */
export * from './load';
export * from './process';
export * from './report';
export * from './stats';
