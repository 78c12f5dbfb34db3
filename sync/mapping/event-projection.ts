import { BUILTIN_CODE_TABLES, lookupCode, type CodeTable } from './code-tables';
import { EVENT_LEVELS, LOOP_STATUSES } from './mapping-schema';
import type { EventProjection, FieldError, Mapping } from './types';

/**
 * The projection of an event-like department row (a police incident, a mediation case, a petition) into
 * core.events: its title, time, category on the category tree, status on the closed loop
 * (reported → accepted → dispatched → handling → feedback → verified → closed → evaluated) and level.
 * Compiled once per run; applied to each mapped row, so a row whose status cannot be placed on the loop is
 * quarantined with the reason like any other validation failure.
 */
export interface EventDraft {
  kind: string;
  title: string;
  occurred_at: string;
  closed_at: string | null;
  category_code: string | null;
  status: string;
  level: string | null;
  severity: string | null;
}

type Part = { field?: string; codes?: string | Record<string, string | null>; default?: string; const?: string };

function table(mapping: Mapping, codes: Part['codes']): CodeTable | null {
  if (codes === undefined) return null;
  if (typeof codes === 'object') return codes;
  return mapping.codeTables?.[codes] ?? BUILTIN_CODE_TABLES[codes] ?? null;
}

function str(v: unknown): string | null {
  if (v === null || v === undefined || v === '') return null;
  return v instanceof Date ? v.toISOString() : typeof v === 'object' ? JSON.stringify(v) : String(v);
}

export type EventProjector = (values: Record<string, unknown>) => { event: EventDraft; errors?: undefined } | { event?: undefined; errors: FieldError[] };

export function compileEventProjection(mapping: Mapping, spec: EventProjection): EventProjector {
  const resolve = (part: Part | undefined, name: string) => {
    type Resolved = { value: string | null; error?: FieldError };
    if (!part) return (_values: Record<string, unknown>): Resolved => ({ value: null });
    const t = table(mapping, part.codes);
    return (values: Record<string, unknown>): Resolved => {
      if (part.const !== undefined) return { value: part.const };
      const raw = part.field ? str(values[part.field]) : null;
      if (raw === null) return { value: part.default ?? null };
      if (!t) return { value: raw };
      const hit = lookupCode(t, raw);
      if (hit === undefined) {
        if (part.default !== undefined) return { value: part.default };
        return { value: null, error: { field: part.field ?? name, reason: `event ${name}: no mapping for "${raw}"`, value: raw } };
      }
      return { value: hit };
    };
  };
  const category = resolve(spec.category, 'category');
  const status = resolve(spec.status, 'status');
  const level = resolve(spec.level, 'level');
  const severity = resolve(spec.severity, 'severity');
  const titleParts = /\{/.test(spec.title) ? spec.title.split(/(\{[^}]+\})/).filter(Boolean) : null;

  return (values) => {
    const errors: FieldError[] = [];
    let title: string | null;
    if (titleParts) {
      title = titleParts.map((p) => (p.startsWith('{') && p.endsWith('}') ? str(values[p.slice(1, -1)]) ?? '' : p)).join('').trim() || null;
    } else title = str(values[spec.title]);
    const occurredAt = str(values[spec.occurredAt]);
    if (!occurredAt) errors.push({ field: spec.occurredAt, reason: 'empty, but the event projection needs the time it happened' });
    const c = category(values);
    const s = status(values);
    const l = level(values);
    const sv = severity(values);
    for (const r of [c, s, l, sv]) if (r.error) errors.push(r.error);
    if (!s.error && (s.value === null || !(LOOP_STATUSES as readonly string[]).includes(s.value))) {
      errors.push({ field: spec.status.field ?? 'status', reason: `event status "${s.value}" is not on the closed loop (${LOOP_STATUSES.join(', ')})`, value: s.value });
    }
    if (!l.error && l.value !== null && !(EVENT_LEVELS as readonly string[]).includes(l.value)) {
      errors.push({ field: spec.level?.field ?? 'level', reason: `event level "${l.value}" is not one of ${EVENT_LEVELS.join(', ')}`, value: l.value });
    }
    if (errors.length) return { errors };
    return {
      event: {
        kind: spec.kind,
        title: title ?? spec.kind,
        occurred_at: occurredAt!,
        closed_at: spec.closedAt ? str(values[spec.closedAt]) : null,
        category_code: c.value,
        status: s.value!,
        level: l.value,
        severity: sv.value,
      },
    };
  };
}
