import { createHash } from 'node:crypto';
import type pg from 'pg';

/**
 * A query as a named (prepared) statement: PostgreSQL parses it once per connection and, after a few executions,
 * may keep one generic plan for it instead of planning every execution (plan_cache_mode = auto chooses the generic
 * plan only where its estimated cost is no worse than the custom plans'). For the subgraphs' loaders, one small
 * index look-up per request and department, parsing and planning were 80–90 % of the statement's time on the
 * server (docs/performance.md, gateway, session 23).
 *
 * For statements whose text comes from the code: the name is a hash of the text, so one text is one statement on
 * every connection. Texts past MAX_NAMED (a text built from data, a bug) stay unnamed rather than fill each
 * connection with prepared statements. A statement prepared before a table it reads gained a column ('cached plan
 * must not change result type' for `t.*`) is prepared again by StatementQueueClient (statement-queue.ts).
 */
const MAX_NAMED = 2_000;
const names = new Map<string, string>();

export function named(text: string, values: unknown[]): pg.QueryConfig {
  let name = names.get(text);
  if (name === undefined && names.size < MAX_NAMED) {
    name = `tl_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`;
    names.set(text, name);
  }
  return name === undefined ? { text, values } : { name, text, values };
}
