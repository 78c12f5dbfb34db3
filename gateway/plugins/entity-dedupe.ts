/**
 * Deduplicates the entity representations of one subgraph fetch. @apollo/gateway sends one representation
 * per entity *occurrence*: a page of 20 events whose participants include the same person five times asks
 * the person's subgraph for that person five times. Here each distinct representation is sent once and the
 * answer is spread back to every occurrence (a copy each, since the gateway merges later fetches into them),
 * with `_entities` error paths pointed at the first occurrence.
 *
 * Used by the data source (gateway/data-source.ts) around each fetch:
 *   const dedupe = dedupeRepresentations(request.variables);
 *   if (dedupe) request.variables = dedupe.variables;
 *   const response = await super.process(options);
 *   return dedupe ? dedupe.expand(response) : response;
 */
export interface RepresentationDedupe {
  variables: Record<string, unknown>;
  /** Number of representations before and after. */
  sent: number;
  asked: number;
  expand<R extends { data?: Record<string, unknown> | null; errors?: readonly { path?: readonly (string | number)[] }[] }>(response: R): R;
}

/**
 * The identity of a representation: `__typename` and `id` when that is all it has (the usual entity key,
 * without serialising), else its JSON.
 */
function representationKey(r: unknown): string {
  if (r && typeof r === 'object') {
    const o = r as Record<string, unknown>;
    let n = 0;
    for (const _ in o) n += 1;
    if (n === 2 && typeof o.__typename === 'string' && typeof o.id === 'string') return `${o.__typename}\u0000${o.id}`;
  }
  return JSON.stringify(r);
}

export function dedupeRepresentations(variables: Record<string, unknown> | undefined): RepresentationDedupe | null {
  const representations = variables?.representations;
  if (!Array.isArray(representations) || representations.length < 2) return null;
  const unique: unknown[] = [];
  const firstOccurrence: number[] = [];
  const seen = new Map<string, number>();
  // Representations of one fetch come from one selection set, so equal entities serialise identically.
  const slot = representations.map((r, i) => {
    const key = representationKey(r);
    let at = seen.get(key);
    if (at === undefined) {
      at = unique.length;
      seen.set(key, at);
      unique.push(r);
      firstOccurrence.push(i);
    }
    return at;
  });
  if (unique.length === representations.length) return null;
  return {
    variables: { ...variables, representations: unique },
    sent: unique.length,
    asked: representations.length,
    expand(response) {
      const entities = response.data?._entities;
      if (!Array.isArray(entities) || entities.length !== unique.length) return response;
      const used = new Set<number>();
      const expanded = slot.map((at) => {
        const entity = entities[at];
        if (!used.has(at)) {
          used.add(at);
          return entity;
        }
        return entity && typeof entity === 'object' ? structuredClone(entity) : entity;
      });
      const errors = response.errors?.map((e) => {
        if (e.path?.[0] !== '_entities' || typeof e.path[1] !== 'number') return e;
        return { ...e, path: ['_entities', firstOccurrence[e.path[1]] ?? e.path[1], ...e.path.slice(2)] };
      });
      return { ...response, data: { ...response.data, _entities: expanded }, ...(errors ? { errors } : {}) };
    },
  };
}
