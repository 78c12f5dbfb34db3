/**
 * Built-in code tables. A mapping names one (`"codes": "gbt2261_sex"`) or defines its own under
 * `codeTables` (each department's own status codes → the hub's). A code that maps to `null` is a known
 * code with no value in the hub (GB/T 2261.1 `0` 未知的性别, `9` 未说明的性别).
 */
export type CodeTable = Readonly<Record<string, string | null>>;

export const BUILTIN_CODE_TABLES: Readonly<Record<string, CodeTable>> = {
  // GB/T 2261.1-2003 人的性别代码, with the Chinese words and common English spellings sources also use.
  gbt2261_sex: {
    '0': null, '1': 'M', '2': 'F', '9': null,
    男: 'M', 女: 'F', 男性: 'M', 女性: 'F', 未知: null, 未说明: null,
    M: 'M', F: 'F', m: 'M', f: 'F', male: 'M', female: 'F', MALE: 'M', FEMALE: 'F',
  },
  // Yes/no flags: 是/否, Y/N, 1/0, true/false.
  yes_no: { 是: 'true', 否: 'false', Y: 'true', N: 'false', y: 'true', n: 'false', '1': 'true', '0': 'false', true: 'true', false: 'false' },
};

/** Look `code` up; `undefined` means the code is not in the table (distinct from a code mapped to null). */
export function lookupCode(table: CodeTable, code: string): string | null | undefined {
  return Object.prototype.hasOwnProperty.call(table, code) ? table[code] : undefined;
}
