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
export type Treatment = 'mask_id' | 'mask_phone' | 'null' | 'mask_json';

export interface SensitiveField {
  kind: SensitiveKind;
  treatment: Treatment;
}

const ID: SensitiveField = { kind: 'id_number', treatment: 'mask_id' };
const PHONE: SensitiveField = { kind: 'phone', treatment: 'mask_phone' };
const SPECIAL: SensitiveField = { kind: 'special_group', treatment: 'null' };
const CORRECTION: SensitiveField = { kind: 'correction', treatment: 'null' };
const MENTAL: SensitiveField = { kind: 'mental_health', treatment: 'null' };
/** Raw JSON (a quarantined source record): sensitive keys and ID-number/phone-shaped values masked inside. */
const RAW: SensitiveField = { kind: 'id_number', treatment: 'mask_json' };

/**
 * The sensitive fields per GraphQL type of the unified graph. The graph task's resolvers apply `protect` to
 * each of these, and a test walks every type of the supergraph to check nothing sensitive is missing from this
 * list (see also `looksSensitive`). A type that is sensitive as a whole (a community-correction record) lists
 * its identifying fields and is nulled at the parent field (`Person.correction`).
 */
export const SENSITIVE_FIELDS: Readonly<Record<string, Readonly<Record<string, SensitiveField>>>> = Object.freeze({
  // core: Person.flags holds special groups (dibao, tekun, elderly_alone, mental_disorder, correction, key_person)
  Person: { idNumber: ID, phone: PHONE, flags: SPECIAL, correction: CORRECTION },
  // 公安
  HouseholdRegistration: { idNumber: ID },
  PoliceIncident: { reporterPhone: PHONE },
  IncidentParty: { idNumber: ID, phone: PHONE },
  // 司法: a community-correction record is sensitive as a whole (Person.correction null without pii:read)
  MediationParty: { idNumber: ID, phone: PHONE },
  Correction: { idNumber: ID, correctionType: CORRECTION, crime: CORRECTION },
  // 民政: the kind of care service can reveal health status (disability care)
  Household: { headIdNumber: ID, phone: PHONE },
  Subsidy: { idNumber: ID },
  CareService: { idNumber: ID, kind: MENTAL },
  // 信访
  Petition: { petitionerIdNumber: ID, petitionerPhone: PHONE },
  // admin: raw source records held in quarantine carry whatever the source sent
  QuarantinedRecord: { payload: RAW, errors: RAW },
  // admin: the two sides of a candidate link in the review queue
  LinkReviewPerson: { idNumber: ID, phone: PHONE },
});

/** Field names that look sensitive whatever type they sit on (a safety net for types not listed above). */
export function looksSensitive(fieldName: string): SensitiveKind | null {
  if (/id_?number|idcard|sfz/i.test(fieldName)) return 'id_number';
  if (/phone|mobile|tel$/i.test(fieldName)) return 'phone';
  if (/^mental|mentalHealth|mental_?(health|disorder|status)/i.test(fieldName)) return 'mental_health';
  if (/correction/i.test(fieldName)) return 'correction';
  if (/specialGroup|flags/i.test(fieldName)) return 'special_group';
  return null;
}

const ID_NUMBER_SHAPE = /^\d{17}[\dXx]$|^\d{15}$/;
const MOBILE_SHAPE = /^(\+?86[- ]?)?1\d{10}$/;

/**
 * Mask the personal data inside an arbitrary JSON value: values under keys that look sensitive are masked by
 * kind (ID numbers, phones) or nulled (special categories), and any string shaped like an ID number or a mobile
 * number is masked wherever it sits (sources name their columns in many ways: 身份证号, sfzh, zjhm ...).
 */
export function maskJson(value: unknown, key = ''): unknown {
  if (value === null || value === undefined) return value ?? null;
  if (Array.isArray(value)) return value.map((v) => maskJson(v, key));
  if (typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, maskJson(v, k)]));
  }
  const kind = key ? looksSensitive(key) ?? (/身份证|证件|sfz|zjhm/i.test(key) ? 'id_number' : /电话|手机|联系方式/.test(key) ? 'phone' : null) : null;
  if (kind === 'id_number') return maskIdNumber(String(value));
  if (kind === 'phone') return maskPhone(String(value));
  if (kind) return null;
  if (typeof value === 'string') {
    const v = value.trim();
    if (ID_NUMBER_SHAPE.test(v)) return maskIdNumber(v);
    if (MOBILE_SHAPE.test(v.replace(/[\s-]/g, ''))) return maskPhone(v);
    // Free text (a note, an address line) with an ID number or a mobile number inside it.
    return value
      .replace(/(?<!\d)(\d{17}[\dXx]|\d{15})(?![\dXx])/g, (m) => maskIdNumber(m) ?? m)
      .replace(/(?<!\d)(1\d{10})(?!\d)/g, (m) => maskPhone(m) ?? m);
  }
  return value;
}

/** The policy for one field, or null when it is not sensitive. */
export function sensitiveField(typeName: string, fieldName: string): SensitiveField | null {
  return SENSITIVE_FIELDS[typeName]?.[fieldName] ?? null;
}

/** Apply a treatment to a value (arrays of ID numbers/phones are masked element-wise). */
export function applyTreatment(treatment: Treatment, value: unknown): unknown {
  if (value === null || value === undefined) return value ?? null;
  if (treatment === 'null') return null;
  if (treatment === 'mask_json') return maskJson(value);
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
