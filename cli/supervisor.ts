import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Logger } from '../platform/logger';
import type { PartEntry } from './parts';

/**
 * Runs each part as a child process (`cli/hub.ts run <name>`), restarts one that dies (with backoff, at most
 * MAX_RESTARTS a minute), and on stop sends SIGTERM to all, then SIGKILL to any still alive after the grace
 * period. Children hold an IPC channel to the supervisor and exit when it closes, so even a supervisor killed
 * with SIGKILL leaves no process behind.
 */
const GRACE_MS = 10_000;
const MAX_RESTARTS = 5;

interface Child {
  entry: PartEntry;
  process: ChildProcess | null;
  restarts: number[];
  /** The part reported that its start() finished (message `{type: 'started'}` over IPC), at least once. */
  started: boolean;
}

export class Supervisor {
  private readonly children = new Map<string, Child>();
  private stopping = false;

  constructor(private readonly env: NodeJS.ProcessEnv, private readonly log: Logger) {}

  start(entries: PartEntry[]): void {
    for (const entry of entries) this.children.set(entry.name, { entry, process: null, restarts: [], started: false });
    this.spawnReady();
  }

  /** Spawns every part not yet spawned whose `after` parts (those that run) have started. */
  private spawnReady(): void {
    for (const child of this.children.values()) {
      if (child.process || child.restarts.length || child.started || this.stopping) continue;
      const waiting = (child.entry.after ?? []).filter((name) => { const dep = this.children.get(name); return dep && !dep.started; });
      if (waiting.length === 0) this.spawn(child);
    }
  }

  private spawn(child: Child): void {
    const proc = fork(join(__dirname, 'hub.ts'), ['run', child.entry.name], {
      env: { ...this.env, HUB_PART: child.entry.name },
      execArgv: ['--import', 'tsx', ...(child.entry.nodeFlags ?? [])],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.process = proc;
    proc.on('message', (message: { type?: string }) => {
      if (message?.type !== 'started' || child.started) return;
      child.started = true;
      this.spawnReady();
    });
    proc.on('exit', (code, signal) => {
      child.process = null;
      if (this.stopping) return;
      const now = Date.now();
      child.restarts = child.restarts.filter((t) => now - t < 60_000);
      if (child.restarts.length >= MAX_RESTARTS) {
        this.log.error({ part: child.entry.name, code, signal }, 'part keeps dying; not restarting it');
        return;
      }
      child.restarts.push(now);
      const delay = 500 * 2 ** (child.restarts.length - 1);
      this.log.warn({ part: child.entry.name, code, signal, restartInMs: delay }, 'part exited; restarting');
      setTimeout(() => { if (!this.stopping) this.spawn(child); }, delay).unref();
    });
  }

  /** Names of parts not running right now. */
  down(): string[] {
    return [...this.children.values()].filter((c) => !c.process).map((c) => c.entry.name);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const alive = [...this.children.values()].map((c) => c.process).filter((p): p is ChildProcess => !!p && p.exitCode === null);
    await Promise.all(alive.map((proc) => new Promise<void>((done) => {
      const timer = setTimeout(() => { proc.kill('SIGKILL'); }, GRACE_MS);
      proc.once('exit', () => { clearTimeout(timer); done(); });
      proc.kill('SIGTERM');
    })));
  }
}
