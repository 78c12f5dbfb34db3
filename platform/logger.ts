import pino, { type Logger } from 'pino';

/**
 * One structured logger for every part. Secrets and sensitive personal fields are redacted wherever they
 * appear in a logged object (PIPL: ID numbers and phones never reach a log in full).
 */
export const REDACT_PATHS = [
  'password', '*.password', '*.*.password',
  'secret', '*.secret', '*.*.secret', 'secrets', '*.secrets',
  'token', '*.token', 'apiKey', '*.apiKey',
  'authorization', '*.authorization', 'headers.authorization', 'req.headers.authorization',
  'connectionString', '*.connectionString',
  'idNumber', '*.idNumber', '*.*.idNumber', 'id_number', '*.id_number', '*.*.id_number',
  'phone', '*.phone', '*.*.phone',
];

export type { Logger };

let root: Logger | undefined;

export function createLogger(options: { level?: string; name?: string } = {}): Logger {
  return pino({
    name: options.name ?? 'tonglan',
    level: options.level ?? process.env.LOG_LEVEL ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}

export function logger(): Logger {
  root ??= createLogger();
  return root;
}

/** A child logger for one part of the hub (`gateway`, `subgraph:core`, `worker` ...). */
export function partLogger(part: string): Logger {
  return logger().child({ part });
}
