import { HubError } from '../../platform/errors';
import type { Department } from '../../domain/departments';
import type { Identity } from '../../security/identity';
import { auditEntry } from '../../security/audit';
import { assertCan, canManageDepartment, departmentScope } from '../../security/scope';
import type { Action } from '../../security/roles';
import type { SubgraphContext } from '../shared/context';
import type { AdminLoaders } from './runtime';

/**
 * Who may administer what: a department admin only their own department's connectors, runs and quarantine;
 * a city admin everything; every other role nothing. Checked on every field that reaches a connector.
 * A refused change is written to the audit log as `denied`.
 */
export type AdminContext = SubgraphContext<AdminLoaders>;

export async function assertDepartment(ctx: AdminContext, department: Department, action: Action, operation: string): Promise<void> {
  if (canManageDepartment(ctx.identity, department, action)) return;
  if (action !== 'connectors:read') {
    await ctx.loaders.runtime.audit.record(auditEntry(ctx.identity, 'denied', { operation, detail: { action, department } })).catch(() => undefined);
  }
  throw new HubError('TL_ERR_FORBIDDEN', `Role ${ctx.identity.role}${ctx.identity.department ? ` of ${ctx.identity.department}` : ''} may not ${action} for department ${department}`, { action, department });
}

/** The departments whose connectors the caller may list (null: all). */
export function readableDepartments(identity: Identity): Department[] | null {
  assertCan(identity, 'connectors:read');
  return departmentScope(identity);
}

export async function recordChange(ctx: AdminContext, operation: string, detail: Record<string, unknown>, fields: string[] = []): Promise<void> {
  await ctx.loaders.runtime.audit.record(auditEntry(ctx.identity, 'admin_change', { operation, fields, detail }));
}
