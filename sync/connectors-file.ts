import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import YAML from 'yaml';
import type { Pool } from '../platform/db';
import { HubError } from '../platform/errors';
import type { Logger } from '../platform/logger';
import { getConnectorKind } from '../connectors/registry';
import { createConnector, listConnectors, updateConnector, type ConnectorInput, type ConnectorRecord } from './connector-store';

/**
 * Connectors as code: `config/connectors.yaml` (CONNECTORS_FILE) declares connectors that are created or
 * brought up to date at start-up (origin 'file'). Strings may use `${VAR}` or `${VAR:-default}` from the
 * environment (secrets belong there, not in the file). A `url` setting (`postgres://user:pass@host:port/db`,
 * `mysql://…`) is expanded into host / port / database / user / password for kinds whose spec has those.
 * Every connector is validated like one made through the API; an error names the file, the connector and
 * the path.
 */
export interface ConnectorsFile {
  connectors: (ConnectorInput & { demo?: boolean })[];
}

/** A declared connector; `demo: true` ones read the demo department systems and load only with DEMO_ENABLED. */
export type DeclaredConnector = ConnectorInput & { demo: boolean };

const VAR = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export function interpolate(value: unknown, env: NodeJS.ProcessEnv, path = ''): unknown {
  if (typeof value === 'string') {
    return value.replace(VAR, (_, name: string, fallback: string | undefined) => {
      const v = env[name];
      if (v !== undefined && v !== '') return v;
      if (fallback !== undefined) return fallback;
      throw new HubError('TL_ERR_CONFIG_INVALID', `${path}: environment variable ${name} is not set (write \${${name}:-default} for a default)`, { field: path, variable: name });
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, env, `${path}[${i}]`));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, env, path ? `${path}.${k}` : k)]));
  return value;
}

/** `url` → the kind's host / port / database / user / password settings (only those its spec knows). */
function expandUrl(kind: string, config: Record<string, unknown>): Record<string, unknown> {
  if (typeof config.url !== 'string') return config;
  const props = (getConnectorKind(kind).spec().configSchema as { properties?: Record<string, unknown> }).properties ?? {};
  if ('url' in props) return config;
  const u = new URL(config.url);
  const { url: _url, ...rest } = config;
  void _url;
  const fromUrl: Record<string, unknown> = {
    host: u.hostname, ...(u.port ? { port: Number(u.port) } : {}), database: decodeURIComponent(u.pathname.replace(/^\//, '')),
    user: decodeURIComponent(u.username), ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
  };
  return { ...Object.fromEntries(Object.entries(fromUrl).filter(([k]) => k in props)), ...rest };
}

/** The file's `connectors` list as written (nothing interpolated yet); an error names the file. */
function declaredList(text: string, file: string): ConnectorsFile['connectors'] {
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (err) {
    throw new HubError('TL_ERR_CONFIG_INVALID', `${file}: not valid YAML: ${(err as Error).message}`);
  }
  const list = (doc as Partial<ConnectorsFile> | null)?.connectors;
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw new HubError('TL_ERR_CONFIG_INVALID', `${file}: "connectors" must be a list`);
  return list;
}

export function parseConnectorsFile(text: string, env: NodeJS.ProcessEnv = process.env, file = 'connectors.yaml'): DeclaredConnector[] {
  return declaredList(text, file).map((c, i) => {
    const at = `${file}: connectors[${i}]${c && typeof c === 'object' && 'name' in c ? ` (${String(c.name)})` : ''}`;
    const { demo, ...input } = interpolate(c, env, `connectors[${i}]`) as ConnectorInput & { demo?: boolean };
    try {
      return { ...input, config: expandUrl(input.kind, input.config ?? {}), demo: demo === true };
    } catch (err) {
      throw new HubError('TL_ERR_CONFIG_INVALID', `${at}: ${(err as Error).message}`);
    }
  });
}

/** The connectors file's path: CONNECTORS_FILE, relative to the project's root unless absolute. */
export function connectorsFilePath(file: string): string {
  return isAbsolute(file) ? file : join(__dirname, '..', file);
}

/**
 * How many connectors the file declares that will run (not paused; demo ones only with the demo on), counted without
 * resolving their settings; null when the file cannot be read as YAML (the worker reports why when it applies it).
 */
export function countDeclaredConnectors(file: string, options: { demoEnabled: boolean }): number | null {
  if (!existsSync(file)) return 0;
  let list: unknown[];
  try {
    list = declaredList(readFileSync(file, 'utf8'), file);
  } catch {
    return null;
  }
  return list.filter((c: unknown) => {
    const d = (c ?? {}) as { paused?: unknown; demo?: unknown };
    return d.paused !== true && (options.demoEnabled || d.demo !== true);
  }).length;
}

/** Create or update every connector of the file. Returns the connectors it declares. */
export async function applyConnectorsFile(pool: Pool, file: string, log: Logger, env: NodeJS.ProcessEnv = process.env, options: { demoEnabled?: boolean } = {}): Promise<ConnectorRecord[]> {
  if (!existsSync(file)) {
    log.info({ file }, 'no connectors file');
    return [];
  }
  const inputs = parseConnectorsFile(readFileSync(file, 'utf8'), env, file).filter((c) => options.demoEnabled !== false || !c.demo);
  const existing = new Map((await listConnectors(pool)).map((c) => [`${c.department}/${c.name}`, c]));
  const out: ConnectorRecord[] = [];
  for (const [i, { demo: _demo, ...input }] of inputs.entries()) {
    void _demo;
    const prior = existing.get(`${input.department}/${input.name}`);
    try {
      // The file is the source of truth for its connectors, except for an operator's pause.
      const record = prior
        ? await updateConnector(pool, prior.id, { ...input, paused: input.paused ?? prior.paused })
        : await createConnector(pool, input, 'file');
      out.push(record);
    } catch (err) {
      const e = err as HubError;
      throw new HubError(e.code ?? 'TL_ERR_CONFIG_INVALID', `${file}: connectors[${i}] (${input.department}/${input.name}): ${e.message}`, e.details);
    }
  }
  log.info({ file, connectors: out.map((c) => `${c.department}/${c.name}`) }, 'connectors file applied');
  return out;
}
