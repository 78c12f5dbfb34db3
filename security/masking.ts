import { PII_READ, type Identity } from './identity';
import { policyOf } from './roles';

/**
 * Field policy for sensitive personal information (PIPL). Without `pii:read` (honoured only for roles whose
 * policy allows it, see roles.ts) an ID number or a phone is masked and the special categories (special-group
 * flags, community correction, mental-health status) are null. With it the value is returned in full and the
 * read is recorded in the audit log (audit.ts) by the resolver that returned it.
 */

export function canReadPii(identity: Identity): boolean {
  return policyOf(identity.role).piiAllowed && identity.scopes.includes(PII_READ);
}

/**
 * `110105199001010123` → `110105********0123` (region code kept: it is what a grid worker recognises; birth
 * date and sequence hidden). 15-digit legacy numbers keep 6 + last 3. Anything else (a malformed raw value)
 * keeps only its last 2 characters, and values of 4 characters or fewer are masked whole.
 */
export function maskIdNumber(value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  const v = String(value).trim();
  if (v === '') return '';
  if (v.length === 18) return `${v.slice(0, 6)}${'*'.repeat(8)}${v.slice(14)}`;
  if (v.length === 15) return `${v.slice(0, 6)}${'*'.repeat(6)}${v.slice(12)}`;
  if (v.length <= 4) return '*'.repeat(v.length);
  return `${'*'.repeat(v.length - 2)}${v.slice(-2)}`;
}

/**
 * `13800138000` → `138****8000`. Other forms (landlines `028-85123456`, `+86 138...`) keep their first 3 and
 * last 4 characters with every digit between masked; short values keep only their last 2 digits.
 */
export function maskPhone(value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  const v = String(value).trim();
  if (v === '') return '';
  if (/^1\d{10}$/.test(v)) return `${v.slice(0, 3)}****${v.slice(7)}`;
  if (v.length >= 9) return v.slice(0, 3) + v.slice(3, -4).replace(/\d/g, '*') + v.slice(-4);
  if (v.length <= 2) return '*'.repeat(v.length);
  return v.slice(0, -2).replace(/\d/g, '*') + v.slice(-2);
}

/**
 * `张三丰` → `张**`, `欧阳娜娜` → `欧***`: surname character kept. Not applied to names by default (grid
 * workers need them); available for exports and logs.
 */
export function maskName(value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  const chars = [...String(value).trim()];
  if (chars.length <= 1) return chars.join('');
  return chars[0] + '*'.repeat(chars.length - 1);
}

export type SensitiveKind = 'id_number' | 'phone' | 'special_group' | 'correction' | 'mental_health';
/** How a field is protected without `pii:read`. */
export type Treatment = 'mask_id' | 'mask_phone' | 'null';

export interface SensitiveField {
  kind: SensitiveKind;
  treatment: Treatment;
}

const ID: SensitiveField = { kind: 'id_number', treatment: 'mask_id' };
const PHONE: SensitiveField = { kind: 'phone', treatment: 'mask_phone' };
const SPECIAL: SensitiveField = { kind: 'special_group', treatment: 'null' };
const CORRECTION: SensitiveField = { kind: 'correction', treatment: 'null' };
const MENTAL: SensitiveField = { kind: 'mental_health', treatment: 'null' };

/**
 * The sensitive fields per GraphQL type of the unified graph. The graph task's resolvers apply `protect` to
 * each of these, and a test walks every type of the supergraph to check nothing sensitive is missing from this
 * list (see also `looksSensitive`). A type that is sensitive as a whole (a community-correction record) lists
 * its identifying fields and is nulled at the parent field (`Person.correction`).
 */
export const SENSITIVE_FIELDS: Readonly<Record<string, Readonly<Record<string, SensitiveField>>>> = Object.freeze({
  Person: { idNumber: ID, phone: PHONE, flags: SPECIAL, specialGroups: SPECIAL, correction: CORRECTION, corrections: CORRECTION, mentalHealth: MENTAL, mentalHealthStatus: MENTAL },
  // 公安
  HouseholdRegistration: { idNumber: ID },
  PoliceIncident: { reporterPhone: PHONE },
  IncidentParty: { idNumber: ID, phone: PHONE },
  // 司法
  MediationCase: {},
  MediationParty: { idNumber: ID, phone: PHONE },
  CaseParty: { idNumber: ID, phone: PHONE },
  Correction: { idNumber: ID, correctionType: CORRECTION, crime: CORRECTION },
  CommunityCorrection: { idNumber: ID, correctionType: CORRECTION, crime: CORRECTION },
  // 民政
  Household: { headIdNumber: ID, phone: PHONE },
  Subsidy: { idNumber: ID },
  CareService: { idNumber: ID, kind: MENTAL },
  // 信访
  Petition: { petitionerIdNumber: ID, petitionerPhone: PHONE },
  // Provenance: the raw source record may carry any of the above.
  SourceRecord: { payload: SPECIAL, idNumber: ID, phone: PHONE },
});

/** Field names that look sensitive whatever type they sit on (a safety net for types not listed above). */
export function looksSensitive(fieldName: string): SensitiveKind | null {
  if (/id_?number|idcard|sfz/i.test(fieldName)) return 'id_number';
  if (/phone|mobile|tel$/i.test(fieldName)) return 'phone';
  if (/mental/i.test(fieldName)) return 'mental_health';
  if (/correction/i.test(fieldName)) return 'correction';
  if (/specialGroup|flags/i.test(fieldName)) return 'special_group';
  return null;
}

/** The policy for one field, or null when it is not sensitive. */
export function sensitiveField(typeName: string, fieldName: string): SensitiveField | null {
  return SENSITIVE_FIELDS[typeName]?.[fieldName] ?? null;
}

/** Apply a treatment to a value (arrays of ID numbers/phones are masked element-wise). */
export function applyTreatment(treatment: Treatment, value: unknown): unknown {
  if (value === null || value === undefined) return value ?? null;
  if (treatment === 'null') return null;
  const mask = treatment === 'mask_id' ? maskIdNumber : maskPhone;
  if (Array.isArray(value)) return value.map((v) => (v === null || v === undefined ? null : mask(String(v))));
  return mask(String(value));
}

/**
 * The value a caller may see for `type.field`: unchanged when the field is not sensitive or the caller may read
 * PII (the caller then audits the read), otherwise masked or null.
 */
export function protect(identity: Identity, typeName: string, fieldName: string, value: unknown): unknown {
  const policy = sensitiveField(typeName, fieldName);
  if (!policy || canReadPii(identity)) return value;
  return applyTreatment(policy.treatment, value);
}

/** Whether returning this value unprotected is an unmasked sensitive read that must be audited. */
export function isUnmaskedRead(identity: Identity, typeName: string, fieldName: string, value: unknown): boolean {
  return value !== null && value !== undefined && sensitiveField(typeName, fieldName) !== null && canReadPii(identity);
}
