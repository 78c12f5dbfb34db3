import { HubError } from '../platform/errors';
import type { ConnectorKind, ConnectorSpec } from './contract';
import { validateAgainstSpec } from './config-validation';
import { fileKind } from './file';
import { httpKind } from './http';
import { mysqlKind } from './mysql';
import { postgresKind } from './postgres';
import { pushKind } from './push';

export { redactSecrets, splitSecrets, joinSecrets, secretPaths, REDACTED } from './secrets';
export { setConnectorRuntime } from './runtime';

/** The connector kinds the hub knows, by the name stored in `hub.connectors.kind`. */
const KINDS: ReadonlyMap<string, ConnectorKind> = new Map<string, ConnectorKind>([
  ['postgres', postgresKind],
  ['mysql', mysqlKind],
  ['http', httpKind],
  ['file', fileKind],
  ['push', pushKind],
]);

/** The kind's module. Unknown kind: TL_ERR_CONNECTOR_CONFIG naming the known ones. */
export function getConnectorKind(kind: string): ConnectorKind {
  const found = KINDS.get(kind);
  if (!found) {
    throw new HubError('TL_ERR_CONNECTOR_CONFIG', `Unknown connector kind "${kind}" (known: ${[...KINDS.keys()].join(', ')})`, { field: 'kind', kind });
  }
  return found;
}

export function listConnectorKinds(): Array<{ kind: string; spec: ConnectorSpec }> {
  return [...KINDS].map(([kind, module]) => ({ kind, spec: module.spec() }));
}

/**
 * Validate a connector's settings against its kind's spec (once, when the connector is created, updated or
 * loaded from YAML). Returns a frozen copy with the spec's defaults filled in; throws TL_ERR_CONNECTOR_CONFIG
 * naming the bad field (`details.field`, `details.problems`), never echoing a value.
 */
export function validateConnectorConfig<C = Record<string, unknown>>(kind: string, config: unknown): C {
  return validateAgainstSpec<C>(getConnectorKind(kind).spec(), config);
}
