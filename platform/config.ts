import Ajv from 'ajv';
import { HubError } from './errors';

/**
 * The hub's configuration: environment variables validated once against a JSON Schema at start-up, with
 * defaults filled in and types coerced, then frozen. A bad value stops start-up with TL_ERR_CONFIG_INVALID
 * naming the variable. Every variable is documented in `.env.example`.
 */
const schema = {
  type: 'object',
  additionalProperties: true,
  properties: {
    NODE_ENV: { type: 'string', enum: ['development', 'test', 'production'], default: 'development' },
    LOG_LEVEL: { type: 'string', enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info' },
    HOST: { type: 'string', minLength: 1, default: '127.0.0.1' },
    PORT: { type: 'integer', minimum: 1, maximum: 65535, default: 4000 },
    SUBGRAPH_PORT_BASE: { type: 'integer', minimum: 1, maximum: 65500, default: 4001 },
    SUBGRAPH_URLS: { type: 'string', default: '' },
    DATABASE_URL: { type: 'string', pattern: '^(postgres(ql)?://.*)?$', default: '' },
    EMBEDDED_PG_PORT: { type: 'integer', minimum: 1, maximum: 65535, default: 54329 },
    REDIS_URL: { type: 'string', pattern: '^rediss?://', default: 'redis://127.0.0.1:6379' },
    REDIS_PREFIX: { type: 'string', pattern: '^[A-Za-z0-9_:-]+$', default: 'tl' },
    DATA_DIR: { type: 'string', minLength: 1, default: 'var' },
    SECRET_KEY: { type: 'string', default: '' },
    SECRET_KEYS_OLD: { type: 'string', default: '' },
    JWT_ISSUER: { type: 'string', minLength: 1, default: 'https://auth.tonglan.local' },
    JWT_AUDIENCE: { type: 'string', minLength: 1, default: 'tonglan' },
    JWT_SECRET: { type: 'string', default: '' },
    JWT_JWKS_URL: { type: 'string', default: '' },
    JWT_PUBLIC_KEYS: { type: 'string', default: '' },
    CONNECTORS_FILE: { type: 'string', default: 'config/connectors.yaml' },
    SYNC_CONCURRENCY: { type: 'integer', minimum: 1, maximum: 64, default: 4 },
    DEMO_ENABLED: { type: 'boolean', default: true },
    DEMO_LIVE: { type: 'boolean', default: true },
    DEMO_SEED: { type: 'integer', default: 20261122 },
    DEMO_PERSONS: { type: 'integer', minimum: 10, maximum: 10000000, default: 3000 },
    DEMO_POLICE_DATABASE_URL: { type: 'string', pattern: '^postgres(ql)?://', default: 'postgres://postgres@127.0.0.1:5432/tonglan_demo_police' },
    DEMO_MYSQL_URL: { type: 'string', pattern: '^mysql://', default: 'mysql://root@127.0.0.1:3306/tonglan_demo_civil' },
    DEMO_PETITION_PORT: { type: 'integer', minimum: 1, maximum: 65535, default: 4100 },
    DEMO_DIR: { type: 'string', default: '' },
    DEMO_PETITION_TOKEN: { type: 'string', minLength: 8, default: 'demo-petition-token' },
    DEMO_LIVE_INTERVAL_MS: { type: 'integer', minimum: 200, maximum: 3600000, default: 3000 },
    QUERY_MAX_DEPTH: { type: 'integer', minimum: 1, maximum: 100, default: 15 },
    QUERY_MAX_ALIASES: { type: 'integer', minimum: 0, maximum: 1000, default: 30 },
    QUERY_MAX_ROOT_FIELDS: { type: 'integer', minimum: 1, maximum: 1000, default: 15 },
    QUERY_MAX_COST: { type: 'integer', minimum: 1, default: 20000 },
    QUERY_MAX_PAGE_SIZE: { type: 'integer', minimum: 1, default: 500 },
    RATE_LIMIT_PER_MINUTE: { type: 'integer', minimum: 0, default: 600 },
    RATE_LIMIT_BURST: { type: 'integer', minimum: 1, default: 100 },
    PERSISTED_OPERATIONS: { type: 'string', enum: ['off', 'safelist'], default: 'off' },
    PERSISTED_OPERATIONS_FILE: { type: 'string', default: '' },
    RESPONSE_CACHE_TTL_MS: { type: 'integer', minimum: 0, maximum: 86400000, default: 60000 },
    WEBHOOK_ALLOWED_HOSTS: { type: 'string', default: '' },
  },
} as const;

export interface HubConfig {
  NODE_ENV: 'development' | 'test' | 'production';
  LOG_LEVEL: string;
  HOST: string;
  PORT: number;
  SUBGRAPH_PORT_BASE: number;
  /** Optional overrides, `name=url,name=url`, for subgraphs deployed elsewhere. */
  SUBGRAPH_URLS: string;
  /** Empty: 127.0.0.1:5432/tonglan if it answers, else an embedded PostgreSQL under DATA_DIR. */
  DATABASE_URL: string;
  EMBEDDED_PG_PORT: number;
  REDIS_URL: string;
  REDIS_PREFIX: string;
  DATA_DIR: string;
  SECRET_KEY: string;
  SECRET_KEYS_OLD: string;
  JWT_ISSUER: string;
  JWT_AUDIENCE: string;
  JWT_SECRET: string;
  JWT_JWKS_URL: string;
  JWT_PUBLIC_KEYS: string;
  CONNECTORS_FILE: string;
  SYNC_CONCURRENCY: number;
  DEMO_ENABLED: boolean;
  DEMO_LIVE: boolean;
  DEMO_SEED: number;
  DEMO_PERSONS: number;
  DEMO_POLICE_DATABASE_URL: string;
  DEMO_MYSQL_URL: string;
  DEMO_PETITION_PORT: number;
  DEMO_DIR: string;
  /** Bearer token / X-API-Key the demo petition API accepts. */
  DEMO_PETITION_TOKEN: string;
  /** How often the demo systems change while the hub runs (DEMO_LIVE). */
  DEMO_LIVE_INTERVAL_MS: number;
  QUERY_MAX_DEPTH: number;
  QUERY_MAX_ALIASES: number;
  QUERY_MAX_ROOT_FIELDS: number;
  QUERY_MAX_COST: number;
  QUERY_MAX_PAGE_SIZE: number;
  /** Requests per minute per client (0 = no limit). */
  RATE_LIMIT_PER_MINUTE: number;
  RATE_LIMIT_BURST: number;
  /** `safelist`: only operations of PERSISTED_OPERATIONS_FILE run (production). */
  PERSISTED_OPERATIONS: 'off' | 'safelist';
  PERSISTED_OPERATIONS_FILE: string;
  /** Gateway response cache entry lifetime (0 = cache off); entries are dropped earlier by change events. */
  RESPONSE_CACHE_TTL_MS: number;
  /** Webhook receivers admitted although not external: host names, IP addresses, CIDR ranges (events/webhooks/url-guard.ts). */
  WEBHOOK_ALLOWED_HOSTS: string;
}

const ajv = new Ajv({ coerceTypes: true, useDefaults: true, allErrors: true });
const validate = ajv.compile(schema);

/** Validate an environment (process.env by default). Throws TL_ERR_CONFIG_INVALID naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<HubConfig> {
  const candidate: Record<string, unknown> = {};
  for (const key of Object.keys(schema.properties)) {
    const value = env[key];
    if (value !== undefined && value !== '') candidate[key] = value;
  }
  if (!validate(candidate)) {
    const problems = (validate.errors ?? []).map((e) => {
      const name = e.instancePath.replace(/^\//, '') || String(e.params && (e.params as { missingProperty?: string }).missingProperty);
      return `${name} ${e.message} (got ${JSON.stringify(candidate[name])})`;
    });
    throw new HubError('TL_ERR_CONFIG_INVALID', `Invalid configuration: ${problems.join('; ')}`, { problems });
  }
  const config = candidate as unknown as HubConfig;
  if (config.NODE_ENV === 'production') {
    const missing = (['SECRET_KEY', 'DATABASE_URL'] as const).filter((k) => !config[k]);
    if (!config.JWT_SECRET && !config.JWT_JWKS_URL && !config.JWT_PUBLIC_KEYS) missing.push('JWT_JWKS_URL' as never);
    if (missing.length) {
      throw new HubError('TL_ERR_CONFIG_INVALID', `Invalid configuration: ${missing.join(', ')} must be set in production`, { missing });
    }
  }
  if (!config.DEMO_DIR) config.DEMO_DIR = `${config.DATA_DIR}/demo`;
  return Object.freeze(config);
}

let cached: Readonly<HubConfig> | undefined;

/** The process's configuration, validated on first use. */
export function config(): Readonly<HubConfig> {
  cached ??= loadConfig();
  return cached;
}

/** For tests: forget the cached configuration so the next call re-reads the environment. */
export function resetConfig(): void {
  cached = undefined;
}
