/**
 * PostgreSQL `COPY … FROM STDIN` text format: a value's backslash, tab, LF and CR are escaped (they would break the
 * line); everything else goes through unchanged (UTF-8: Chinese text is data). Shared by sync's staging COPY
 * (sync/load/copy-text.ts) and linking's writes (linking/copy-text.ts).
 */
export function escapeCopyText(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return s;
  return s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}

const NEEDS_ESCAPE = /[\\\t\n\r]/;
