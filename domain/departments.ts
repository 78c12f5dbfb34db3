/**
 * The departments the hub integrates. The GraphQL enum value is the public name (CONTRACT.md); `schema` is the
 * PostgreSQL schema holding its synced records; `role` the database role its subgraph runs as.
 * Adding a department: a row here, a migration creating its schema and role, a subgraph folder.
 */
export const DEPARTMENTS = {
  POLICE: { code: 'POLICE', schema: 'police', role: 'tonglan_police', subgraph: 'police', nameZh: '公安' },
  JUSTICE: { code: 'JUSTICE', schema: 'justice', role: 'tonglan_justice', subgraph: 'justice', nameZh: '司法' },
  CIVIL_AFFAIRS: { code: 'CIVIL_AFFAIRS', schema: 'civil', role: 'tonglan_civil', subgraph: 'civil-affairs', nameZh: '民政' },
  PETITION: { code: 'PETITION', schema: 'petition', role: 'tonglan_petition', subgraph: 'petition', nameZh: '信访' },
} as const;

export type Department = keyof typeof DEPARTMENTS;
export const DEPARTMENT_CODES = Object.keys(DEPARTMENTS) as Department[];

export function isDepartment(value: unknown): value is Department {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(DEPARTMENTS, value);
}
