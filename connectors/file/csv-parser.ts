/**
 * A streaming RFC 4180 CSV parser over decoded text: quoted fields with `""` escapes and line breaks inside
 * quotes, CRLF or LF line ends. Each row keeps the line it started on and its raw text, so a bad row can be
 * reported with both. Blank lines are skipped.
 */
export interface CsvRow {
  line: number;
  fields: string[];
  raw: string;
  /** A quoted field ran to the end of the file. */
  unterminated?: boolean;
}

export class CsvParser {
  private field = '';
  private row: string[] = [];
  private raw = '';
  private inQuotes = false;
  private quoteSeen = false; // a `"` inside quotes: an escape if another follows, else the closing quote
  private fieldQuoted = false;
  private line = 1;
  private rowLine = 1;

  constructor(private readonly delimiter = ',') {}

  push(chunk: string): CsvRow[] {
    const out: CsvRow[] = [];
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!;
      if (this.inQuotes) {
        if (this.quoteSeen) {
          this.quoteSeen = false;
          if (c === '"') { this.field += '"'; this.raw += c; continue; }
          this.inQuotes = false; // the quote closed the field; handle c below
        } else {
          if (c === '"') this.quoteSeen = true;
          else { this.field += c; if (c === '\n') this.line++; }
          this.raw += c;
          continue;
        }
      }
      if (c === this.delimiter) { this.row.push(this.field); this.field = ''; this.fieldQuoted = false; this.raw += c; }
      else if (c === '\n') { this.finishRow(out); this.line++; this.rowLine = this.line; }
      else if (c === '\r') { /* CR of CRLF */ }
      else if (c === '"' && this.field === '' && !this.fieldQuoted) { this.inQuotes = true; this.fieldQuoted = true; this.raw += c; }
      else { this.field += c; this.raw += c; }
    }
    return out;
  }

  end(): CsvRow[] {
    const out: CsvRow[] = [];
    if (this.inQuotes && !this.quoteSeen) {
      this.row.push(this.field);
      out.push({ line: this.rowLine, fields: this.row, raw: this.raw, unterminated: true });
      this.reset();
      return out;
    }
    this.finishRow(out);
    return out;
  }

  private finishRow(out: CsvRow[]): void {
    this.row.push(this.field);
    const blank = this.row.length === 1 && this.row[0] === '' && this.raw.trim() === '';
    if (!blank) out.push({ line: this.rowLine, fields: this.row, raw: this.raw });
    this.reset();
  }

  private reset(): void {
    this.row = [];
    this.field = '';
    this.raw = '';
    this.inQuotes = false;
    this.quoteSeen = false;
    this.fieldQuoted = false;
  }
}
