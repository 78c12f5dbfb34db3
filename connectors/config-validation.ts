import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { ConnectorSpec, JsonSchema } from './contract';
import { configError } from './errors';

/**
 * Connector settings are validated once against the kind's JSON Schema (as fastify validates its options in
 * `initial-config-validation`): defaults filled in, then the result is frozen. A bad setting fails fast with
 * TL_ERR_CONNECTOR_CONFIG naming the field (`auth.token`, `streams/0/pattern`), never its value.
 */
export function createSpecAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true, strictRequired: false, allowUnionTypes: true });
  addFormats(ajv);
  // Our own annotation: a secret setting, stored encrypted, never returned or logged.
  ajv.addKeyword({ keyword: 'x-secret', schemaType: 'boolean' });
  return ajv;
}

const ajv = createSpecAjv();
const compiled = new WeakMap<JsonSchema, ValidateFunction>();

function validatorFor(spec: ConnectorSpec): ValidateFunction {
  let validate = compiled.get(spec.configSchema);
  if (!validate) {
    validate = ajv.compile(spec.configSchema);
    compiled.set(spec.configSchema, validate);
  }
  return validate;
}

export interface ConfigProblem {
  field: string;
  message: string;
}

function problemOf(e: ErrorObject): ConfigProblem {
  const base = e.instancePath.replace(/^\//, '').replace(/\//g, '.');
  const params = e.params as { missingProperty?: string; additionalProperty?: string };
  const child = params.missingProperty ?? params.additionalProperty;
  const field = child ? (base ? `${base}.${child}` : child) : base || '(root)';
  const message = e.keyword === 'additionalProperties' ? 'is not a setting of this kind'
    : e.keyword === 'required' ? 'is required' : e.message ?? 'is invalid';
  return { field, message };
}

/** Validate settings against a kind's spec; returns a frozen copy with defaults filled in. */
export function validateAgainstSpec<C = Record<string, unknown>>(spec: ConnectorSpec, config: unknown): C {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw configError(`${spec.kind} connector configuration must be an object`, { kind: spec.kind, field: '(root)' });
  }
  const copy = structuredClone(config) as Record<string, unknown>;
  const validate = validatorFor(spec);
  if (!validate(copy)) {
    // `if/then` wrappers repeat the real error; keep the informative ones.
    const problems = (validate.errors ?? []).filter((e) => e.keyword !== 'if').map(problemOf);
    const unique = problems.filter((p, i) => problems.findIndex((q) => q.field === p.field && q.message === p.message) === i);
    const first = unique[0] ?? { field: '(root)', message: 'is invalid' };
    throw configError(
      `${spec.kind} connector configuration: ${unique.map((p) => `"${p.field}" ${p.message}`).join('; ')}`,
      { kind: spec.kind, field: first.field, problems: unique },
    );
  }
  return deepFreeze(copy) as C;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
