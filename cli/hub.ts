#!/usr/bin/env tsx
// Must stay the first import: tracing patches pg and http as they load.
import './tracing-preload';
import { loadConfig, type HubConfig } from '../platform/config';
import { isHubError } from '../platform/errors';
import { ensureInfrastructure, redactUrl } from '../platform/infra';
import { createLogger, type Logger } from '../platform/logger';
import { migrate } from '../platform/migrate';
import { bootstrapHubData } from './bootstrap';
import { countDeclaredConnectors, connectorsFilePath } from '../sync/connectors-file';
import { describeDemoData, waitForDemoData } from './demo-data';
import type { RunningPart } from './part';
import { PARTS, findPart, loadPart } from './parts';
import { Supervisor } from './supervisor';

/**
 * The hub's command line.
 *   start [--only a,b] [--except a,b]  the whole hub: infrastructure, migrations, every part as a child process
 *   run <part>                         one part in this process (deployment; also what `start` forks)
 *   migrate                            apply database migrations and exit
 *   parts                              list the parts
 */
const USAGE = `usage: hub <start [--only a,b] [--except a,b] | run <part> | migrate | parts>
parts: ${PARTS.map((p) => p.name).join(', ')}`;

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  let config: Readonly<HubConfig>;
  try {
    config = loadConfig();
  } catch (err) {
    console.error(`tonglan: ${(err as Error).message}`);
    process.exit(2);
  }
  const log = createLogger({ level: config.LOG_LEVEL, name: 'tonglan' });
  switch (command) {
    case 'start': return start(config, log, rest);
    case 'run': return runPart(config, log, rest[0]);
    case 'migrate': {
      const infra = await ensureInfrastructure(config, log);
      const applied = await migrate(infra.databaseUrl, { log });
      log.info({ applied: applied.length }, 'migrations up to date');
      await infra.stop();
      return;
    }
    case 'parts':
      for (const p of PARTS) console.log(`${p.name.padEnd(24)} ${p.module}${p.demo ? '  (demo only)' : ''}`);
      return;
    default:
      console.error(USAGE);
      process.exit(2);
  }
}

function listArg(args: string[], flag: string): string[] | undefined {
  const i = args.indexOf(flag);
  if (i < 0) return undefined;
  return (args[i + 1] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

async function start(config: Readonly<HubConfig>, log: Logger, args: string[]): Promise<void> {
  const only = listArg(args, '--only');
  const except = listArg(args, '--except') ?? [];
  for (const name of [...(only ?? []), ...except]) {
    if (!findPart(name)) throw new Error(`unknown part '${name}'. ${USAGE}`);
  }
  const entries = PARTS.filter((p) => (only ? only.includes(p.name) : true) && !except.includes(p.name) && (config.DEMO_ENABLED || !p.demo));

  const infra = await ensureInfrastructure(config, log);
  log.info({ database: redactUrl(infra.databaseUrl), redis: redactUrl(infra.redisUrl), started: infra.started }, 'infrastructure ready');
  await migrate(infra.databaseUrl, { log });
  await bootstrapHubData(config, infra.databaseUrl, log);

  const supervisor = new Supervisor({ ...process.env, DATABASE_URL: infra.databaseUrl, REDIS_URL: infra.redisUrl }, log);
  let stopping: Promise<void> | null = null;
  const shutdown = (signal: string) => {
    stopping ??= (async () => {
      log.info({ signal }, 'stopping the hub');
      await supervisor.stop();
      await infra.stop();
      log.info('stopped');
      process.exit(0);
    })();
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  supervisor.start(entries);

  if (entries.some((e) => e.name === 'gateway')) {
    const url = `http://${config.HOST}:${config.PORT}`;
    const ready = await waitReady(`${url}/readyz`, 180_000, () => stopping !== null);
    if (ready) {
      console.log(`\nTonglan is ready: ${url}/graphql  (health ${url}/healthz, readiness ${url}/readyz, metrics ${url}/metrics)\n`);
      // Ready is before the demo systems are seeded and synced: say when their data is in (or what it waits for).
      if (entries.some((e) => e.name === 'worker') && config.DEMO_ENABLED) {
        const declared = countDeclaredConnectors(connectorsFilePath(config.CONNECTORS_FILE), { demoEnabled: config.DEMO_ENABLED });
        const demo = await waitForDemoData(infra.databaseUrl, 180_000, () => stopping !== null, declared)
          .catch((err: unknown) => { log.warn({ err }, 'could not follow the demo data\'s first sync'); return null; });
        if (demo) console.log(`${describeDemoData(demo)}\n`);
      }
    } else if (!stopping) {
      log.error({ down: supervisor.down() }, `gateway did not become ready at ${url}/readyz`);
    }
  }
}

async function waitReady(url: string, timeoutMs: number, cancelled: () => boolean): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !cancelled()) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return true;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 500));
  }
  return false;
}

async function runPart(config: Readonly<HubConfig>, log: Logger, name: string | undefined): Promise<void> {
  const entry = name ? findPart(name) : undefined;
  if (!entry) {
    console.error(name ? `unknown part '${name}'. ${USAGE}` : USAGE);
    process.exit(2);
  }
  const partLog = log.child({ part: entry.name });
  const definition = loadPart(entry);
  const databaseUrl = config.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/tonglan';
  let running: RunningPart | undefined;
  let stopping = false;
  const stop = async (reason: string) => {
    if (stopping) return;
    stopping = true;
    partLog.info({ reason }, 'part stopping');
    // Still starting (a demo part seeding its systems can take a while): nothing is serving yet, and waiting
    // for start() to finish could outlive a supervisor that is gone. Exit now; the OS closes what was opened.
    if (!running) process.exit(0);
    const timer = setTimeout(() => { partLog.warn('stop timed out'); process.exit(1); }, 9_000);
    try {
      await running.stop();
    } catch (err) {
      partLog.error({ err }, 'part stop failed');
    }
    clearTimeout(timer);
    process.exit(0);
  };
  // Registered before start(): a part must exit with its supervisor even if it dies while the part starts.
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  // Forked by the supervisor: exit with it, whatever way it ends.
  process.on('disconnect', () => void stop('supervisor gone'));
  running = await definition.start({ config, databaseUrl, redisUrl: config.REDIS_URL, log: partLog });
  partLog.info({ url: running.url }, 'part started');
  process.send?.({ type: 'started' }); // the supervisor starts the parts that wait for this one
}

main(process.argv.slice(2)).catch((err: unknown) => {
  const message = isHubError(err) ? `${err.code}: ${err.message}` : (err as Error)?.stack ?? String(err);
  console.error(`tonglan: ${message}`);
  process.exit(1);
});
