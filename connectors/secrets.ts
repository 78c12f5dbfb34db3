import type { ConnectorSpec, JsonSchema } from './contract';

/**
 * Secret settings are marked in a kind's spec with `"x-secret": true`. These helpers find them by walking the
 * schema (properties, array items, allOf/anyOf/oneOf/if-then-else branches), so the platform can store them
 * encrypted apart from the rest, and return or log a configuration without them.
 */
export const REDACTED = '[redacted]';

type Path = string[]; // '*' = every element of an array

function walk(schema: unknown, path: Path, out: Path[]): void {
  if (!schema || typeof schema !== 'object') return;
  const s = schema as Record<string, unknown>;
  if (s['x-secret'] === true) {
    out.push(path);
    return;
  }
  const props = s.properties as Record<string, unknown> | undefined;
  if (props) for (const [name, sub] of Object.entries(props)) walk(sub, [...path, name], out);
  if (s.items) walk(s.items, [...path, '*'], out);
  for (const key of ['allOf', 'anyOf', 'oneOf'] as const) {
    const list = s[key];
    if (Array.isArray(list)) for (const sub of list) walk(sub, path, out);
  }
  for (const key of ['then', 'else'] as const) walk(s[key], path, out);
}

/** Every secret setting of a spec, as paths (`auth.token`, `streams.*.password`). */
export function secretPaths(specOrSchema: ConnectorSpec | JsonSchema): string[] {
  const schema = 'configSchema' in specOrSchema ? (specOrSchema as ConnectorSpec).configSchema : specOrSchema;
  const out: Path[] = [];
  walk(schema, [], out);
  return [...new Set(out.map((p) => p.join('.')))];
}

type Visitor = (holder: Record<string, unknown>, key: string) => void;

function visit(value: unknown, path: string[], fn: Visitor): void {
  if (!value || typeof value !== 'object') return;
  const [head, ...rest] = path;
  if (head === undefined) return;
  if (head === '*') {
    if (Array.isArray(value)) for (const item of value) visit(item, rest, fn);
    return;
  }
  const obj = value as Record<string, unknown>;
  if (!(head in obj)) return;
  if (rest.length === 0) fn(obj, head);
  else visit(obj[head], rest, fn);
}

/** A deep copy of the configuration with every secret value replaced by `[redacted]` (for APIs and logs). */
export function redactSecrets<C>(spec: ConnectorSpec, config: C): C {
  const copy = structuredClone(config);
  for (const p of secretPaths(spec)) {
    visit(copy, p.split('.'), (holder, key) => {
      if (holder[key] !== undefined && holder[key] !== null && holder[key] !== '') holder[key] = REDACTED;
    });
  }
  return copy;
}

/**
 * Split a configuration into its public part (secrets removed) and its secrets (a partial object of the same
 * shape, holding only the secret values), so the secrets can be stored encrypted. `joinSecrets` inverts it.
 */
export function splitSecrets(spec: ConnectorSpec, config: Record<string, unknown>): {
  config: Record<string, unknown>;
  secrets: Record<string, unknown>;
} {
  const publicPart = structuredClone(config);
  const secrets: Record<string, unknown> = {};
  for (const p of secretPaths(spec)) {
    const segments = p.split('.');
    collect(publicPart, segments, secrets);
  }
  return { config: publicPart, secrets };
}

// Move the value(s) at `path` from `from` into `into`, creating the same shape (arrays keep their indexes).
function collect(from: unknown, path: string[], into: Record<string, unknown> | unknown[]): void {
  if (!from || typeof from !== 'object') return;
  const [head, ...rest] = path;
  if (head === undefined) return;
  if (head === '*') {
    if (!Array.isArray(from) || !Array.isArray(into)) return;
    from.forEach((item, i) => {
      const slot = (into[i] ??= {}) as Record<string, unknown>;
      collect(item, rest, slot);
    });
    return;
  }
  const obj = from as Record<string, unknown>;
  const target = into as Record<string, unknown>;
  if (!(head in obj)) return;
  if (rest.length === 0) {
    target[head] = obj[head];
    delete obj[head];
    return;
  }
  const next = rest[0] === '*' ? ((target[head] ??= []) as unknown[]) : ((target[head] ??= {}) as Record<string, unknown>);
  collect(obj[head], rest, next);
}

/** Put secrets (from `splitSecrets`) back into a public configuration. A `[redacted]` placeholder never wins. */
export function joinSecrets(config: Record<string, unknown>, secrets: Record<string, unknown> | null | undefined): Record<string, unknown> {
  const out = structuredClone(config);
  if (secrets) merge(out, secrets);
  return out;
}

function merge(target: Record<string, unknown> | unknown[], source: Record<string, unknown> | unknown[]): void {
  for (const [k, v] of Object.entries(source)) {
    if (v === undefined || v === null) continue;
    const key = Array.isArray(target) ? Number(k) : k;
    const t = target as Record<string | number, unknown>;
    if (typeof v === 'object') {
      if (!t[key] || typeof t[key] !== 'object') t[key] = Array.isArray(v) ? [] : {};
      merge(t[key] as Record<string, unknown>, v as Record<string, unknown>);
    } else if (t[key] === undefined || t[key] === REDACTED || t[key] === '') {
      t[key] = v;
    }
  }
}
