import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { median } from './stats';

/**
 * Benchmark processes: each system under test runs in a process of its own (`startProcess`), so its memory
 * and CPU are measured apart from the load generator and from its peers (`sampleProcess`, Linux /proc).
 *
 * Protocol: the child prints one line `READY <json>` on stdout when it serves; anything else it prints is
 * passed through to stderr with its name. It is stopped with SIGTERM (then SIGKILL after 5 s).
 */
export const ROOT = join(__dirname, '..', '..');

export interface BenchProcess<T = Record<string, unknown>> {
  name: string;
  child: ChildProcess;
  pid: number;
  ready: T;
  stop(): Promise<void>;
}

export async function startProcess<T = Record<string, unknown>>(name: string, script: string, args: string[] = [], env: Record<string, string> = {}, timeoutMs = 90_000): Promise<BenchProcess<T>> {
  // BENCH_NODE_ARGS: extra Node flags for the systems under test, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`
  // (a CPU profile of each process, written when it is stopped).
  const nodeArgs = process.env.BENCH_NODE_ARGS?.split(/\s+/).filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', join(ROOT, script), ...args], {
    cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const ready = await new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} was not ready within ${timeoutMs} ms`)), timeoutMs);
    let buffer = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line.startsWith('READY ')) {
          clearTimeout(timer);
          resolve(JSON.parse(line.slice(6)) as T);
        } else if (line.trim()) {
          process.stderr.write(`[${name}] ${line}\n`);
        }
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => process.stderr.write(`[${name}] ${chunk.toString('utf8')}`));
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`${name} exited with code ${code} before it was ready`)); });
  });
  return {
    name, child, pid: child.pid!, ready,
    async stop() {
      if (child.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => { clearTimeout(kill); resolve(); });
        child.kill('SIGTERM');
      });
    },
  };
}

/** Resident set size of a process, in MiB (Linux). */
export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(status);
  return m ? Number(m[1]) / 1024 : NaN;
}

/** CPU time (user + system) a process has used, in seconds (Linux). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of /proc/pid/stat (11 and 12 after the command name).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Samples a process's RSS while work runs; `stop()` gives the peak and median RSS and the CPU used meanwhile. */
export function sampleProcess(pid: number, everyMs = 200): { stop(): { peakRssMiB: number; medianRssMiB: number; cpuSeconds: number } } {
  const samples: number[] = [];
  const cpu0 = cpuSeconds(pid);
  const take = () => { try { samples.push(rssMiB(pid)); } catch { /* process gone */ } };
  take();
  const timer = setInterval(take, everyMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      let cpu = NaN;
      try { cpu = cpuSeconds(pid) - cpu0; } catch { /* gone */ }
      return { peakRssMiB: Math.max(...samples), medianRssMiB: median(samples), cpuSeconds: cpu };
    },
  };
}

/** Print the READY line from a child process. */
export function announceReady(info: Record<string, unknown>): void {
  process.stdout.write(`READY ${JSON.stringify(info)}\n`);
}
