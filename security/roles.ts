import type { Department } from '../domain/departments';
import type { Role } from './identity';

/**
 * The role table: what each role of CONTRACT.md may see and do, as data. Subgraphs, the gateway and the docs
 * (docs/security.md) read it from here; nothing else decides who may do what.
 *
 * Two independent restrictions shape every read:
 *  - geography: which part of the grid hierarchy a caller sees (`scope.ts` turns it into SQL);
 *  - departments: whose department data a caller sees (all, or only the caller's own department).
 * On top of both, sensitive fields (masking.ts) are masked unless the role honours `pii:read` AND the caller
 * holds that scope.
 */
export type Geography =
  | 'city'        // the whole city: no geographic restriction
  | 'districts'   // the district codes in the identity (`districts`), everything below them
  | 'grids'       // the grid codes in the identity (`grids`), everything below them
  | 'grants';     // city-wide unless the credential lists grids (API keys of integrators may be narrowed)

export type DepartmentReach =
  | 'all'         // every department's records
  | 'own';        // only the identity's `department`

/** What a caller may do, beyond reading the graph. */
export const ACTIONS = [
  'graph:read',          // query persons, places, events, grids (within geography and departments)
  'stats:read',          // eventStats (within geography and departments)
  'changes:subscribe',   // subscribe to change events / receive webhooks (within geography and departments)
  'connectors:read',     // list connectors, sync runs (own department for department admins)
  'connectors:manage',   // create/update/delete/check/discover connectors, runSync
  'quarantine:manage',   // see and replay/discard quarantined rows
  'review:manage',       // decide the linking review queue (merge / split persons)
  'webhooks:manage',     // create/delete webhooks (own ones; department admins: their department's)
  'audit:read',          // query the audit log
] as const;
export type Action = (typeof ACTIONS)[number];

export interface RolePolicy {
  role: Role;
  /** One line for the docs. */
  summary: string;
  geography: Geography;
  departments: DepartmentReach;
  /** Whether the `pii:read` scope is honoured for this role (false: always masked, whatever the token says). */
  piiAllowed: boolean;
  actions: readonly Action[];
}

export const ROLE_POLICIES: Readonly<Record<Role, RolePolicy>> = Object.freeze({
  // 市级管理员 of the command centre: sees the whole city and every department, administers every
  // department's connectors, reads the audit log. Unmasked fields only with `pii:read` (and every look audited).
  'city-admin': {
    role: 'city-admin',
    summary: 'Whole city, every department; administers all connectors, webhooks, quarantine and the review queue; reads the audit log.',
    geography: 'city',
    departments: 'all',
    piiAllowed: true,
    actions: ['graph:read', 'stats:read', 'changes:subscribe', 'connectors:read', 'connectors:manage',
      'quarantine:manage', 'review:manage', 'webhooks:manage', 'audit:read'],
  },
  // 区级 officer of a district dashboard: everything in their districts, read only.
  'district-officer': {
    role: 'district-officer',
    summary: 'People, places, events and statistics of their districts (every department), read only.',
    geography: 'districts',
    departments: 'all',
    piiAllowed: true,
    actions: ['graph:read', 'stats:read', 'changes:subscribe'],
  },
  // 网格员 with the grid-worker app: the households of their grids, across departments (subsidies, disputes,
  // petitions, care needs), nothing outside their grids.
  'grid-worker': {
    role: 'grid-worker',
    summary: 'People, places and events of their grids only (every department), read only.',
    geography: 'grids',
    departments: 'all',
    piiAllowed: true,
    actions: ['graph:read', 'stats:read', 'changes:subscribe'],
  },
  // Department administrator (one per department): manages their department's connectors, webhooks and
  // quarantine, and sees their own department's records and events city-wide to fix bad rows; nothing of
  // other departments.
  'department-admin': {
    role: 'department-admin',
    summary: "Their department only: its connectors, sync runs, webhooks, quarantine, and its own records and events city-wide.",
    geography: 'city',
    departments: 'own',
    piiAllowed: true,
    actions: ['graph:read', 'stats:read', 'connectors:read', 'connectors:manage', 'quarantine:manage', 'webhooks:manage'],
  },
  // Other government systems (12345 platform, early-warning models) with an API key or a token: read and
  // subscribe city-wide unless the key is narrowed to grids or a department; manage their own webhooks.
  integrator: {
    role: 'integrator',
    summary: 'Read and subscribe city-wide, or within the grids/department its key is narrowed to; manages its own webhooks.',
    geography: 'grants',
    departments: 'all',
    piiAllowed: true,
    actions: ['graph:read', 'stats:read', 'changes:subscribe', 'webhooks:manage'],
  },
  // Statistician / analyst: city-wide, read only, and never unmasked personal data (PIPL data minimisation:
  // statistics need no ID numbers), even with `pii:read` in the token.
  analyst: {
    role: 'analyst',
    summary: 'Whole city read only and statistics; sensitive fields always masked, even with pii:read.',
    geography: 'city',
    departments: 'all',
    piiAllowed: false,
    actions: ['graph:read', 'stats:read'],
  },
});

export function policyOf(role: Role): RolePolicy {
  const policy = ROLE_POLICIES[role];
  if (!policy) throw new Error(`No policy for role ${String(role)}`);
  return policy;
}

/** Whether a role may perform an action at all (scope checks come on top: see scope.ts, canManageDepartment). */
export function roleAllows(role: Role, action: Action): boolean {
  return policyOf(role).actions.includes(action);
}

export type { Department };
