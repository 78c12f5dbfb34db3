import type { Identity } from '../../security/identity';
import { isUnmaskedRead, protect } from '../../security/masking';

/**
 * One request's guard over sensitive personal information: `protect` returns the value the caller may see
 * (masked or null unless the caller may read PII, security/masking.ts) and remembers every unmasked read
 * (which person, which `Type.field`), so the subgraph writes one audit entry per request when it is done.
 */
export interface PiiRead {
  persons: string[];
  fields: string[];
}

export class PiiGuard {
  private readonly persons = new Set<string>();
  private readonly fields = new Set<string>();

  constructor(private readonly identity: Identity) {}

  protect<T>(typeName: string, fieldName: string, value: T, personId?: string | null): T | null {
    if (isUnmaskedRead(this.identity, typeName, fieldName, value)) {
      this.fields.add(`${typeName}.${fieldName}`);
      if (personId) this.persons.add(personId);
    }
    return protect(this.identity, typeName, fieldName, value) as T | null;
  }

  /** The unmasked reads so far, or null when there were none. */
  reads(): PiiRead | null {
    if (!this.fields.size) return null;
    return { persons: [...this.persons].sort(), fields: [...this.fields].sort() };
  }
}

/**
 * Field resolvers for the sensitive fields of a type: the node carries the raw value under the field's name,
 * the resolver returns what the caller may see. Resolving lazily (only when selected) means the audit log
 * records exactly the sensitive fields a response contained.
 */
export function protectedFields<N>(typeName: string, fields: readonly (keyof N & string)[], personIdOf: (node: N) => string | null | undefined) {
  const out: Record<string, (node: N, args: unknown, ctx: { pii: PiiGuard }) => unknown> = {};
  for (const field of fields) {
    out[field] = (node, _args, ctx) => ctx.pii.protect(typeName, field, (node as Record<string, unknown>)[field] ?? null, personIdOf(node));
  }
  return out;
}
