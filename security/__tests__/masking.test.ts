import type { Identity, Role } from '../identity';
import { internalKey } from '../keys';
import {
  applyTreatment, canReadPii, maskJson, isUnmaskedRead, looksSensitive, maskIdNumber, maskName, maskPhone, protect, SENSITIVE_FIELDS,
} from '../masking';
import { ROLE_POLICIES } from '../roles';

const who = (role: Role, scopes: string[] = []): Identity => ({ sub: `u-${role}`, role, grids: [], districts: [], scopes });

describe('masking formats', () => {
  it('masks an 18-digit ID number to first 6 + last 4', () => {
    expect(maskIdNumber('110105199001010123')).toBe('110105********0123');
    expect(maskIdNumber('51010419851231002X')).toBe('510104********002X');
    expect(maskIdNumber('110105199001010123')).toHaveLength(18);
  });
  it('masks a 15-digit ID number to first 6 + last 3', () => {
    expect(maskIdNumber('110105900101012')).toBe('110105******012');
  });
  it('masks malformed values without leaking them', () => {
    expect(maskIdNumber('1234567890')).toBe('********90');
    expect(maskIdNumber('123')).toBe('***');
    expect(maskIdNumber(null)).toBeNull();
    expect(maskIdNumber(undefined)).toBeNull();
    expect(maskIdNumber('')).toBe('');
  });
  it('masks phones', () => {
    expect(maskPhone('13800138000')).toBe('138****8000');
    expect(maskPhone('028-85123456')).toBe('028-****3456');
    expect(maskPhone('+86 13800138000')).toBe('+86 *******8000');
    expect(maskPhone('110')).toBe('*10');
    expect(maskPhone(null)).toBeNull();
  });
  it('masks names keeping the surname character', () => {
    expect(maskName('张三丰')).toBe('张**');
    expect(maskName('欧阳娜娜')).toBe('欧***');
    expect(maskName('李')).toBe('李');
  });
});

describe('field policy', () => {
  it('honours pii:read only for roles that allow it', () => {
    expect(canReadPii(who('city-admin', ['pii:read']))).toBe(true);
    expect(canReadPii(who('grid-worker', ['pii:read']))).toBe(true);
    expect(canReadPii(who('city-admin'))).toBe(false);
    expect(canReadPii(who('analyst', ['pii:read']))).toBe(false);
  });

  it('protects every listed field for a caller without pii:read', () => {
    const masked = who('grid-worker');
    const full = who('grid-worker', ['pii:read']);
    expect(protect(masked, 'Person', 'idNumber', '110105199001010123')).toBe('110105********0123');
    expect(protect(masked, 'Person', 'phone', '13800138000')).toBe('138****8000');
    expect(protect(masked, 'Person', 'flags', ['mental_disorder'])).toBeNull();
    expect(protect(masked, 'Person', 'correction', { crime: 'x' })).toBeNull();
    expect(protect(masked, 'Person', 'name', '张三')).toBe('张三');
    expect(protect(full, 'Person', 'idNumber', '110105199001010123')).toBe('110105199001010123');
    expect(isUnmaskedRead(full, 'Person', 'idNumber', '110105199001010123')).toBe(true);
    expect(isUnmaskedRead(full, 'Person', 'name', '张三')).toBe(false);
    expect(isUnmaskedRead(masked, 'Person', 'idNumber', '110105199001010123')).toBe(false);
    expect(applyTreatment('mask_id', ['110105199001010123', null])).toEqual(['110105********0123', null]);
  });

  it('masks personal data inside raw source records', () => {
    const raw = { xm: '王五', sfzh: '510104198512310021', 联系电话: '13912345678', mental: 'severe', note: '身份证 510104198512310021，电话13800138000', nested: [{ zjhm: '51010419851231002X' }], anyCol: '13800138000', amount: 12 };
    expect(maskJson(raw)).toEqual({
      xm: '王五', sfzh: '510104********0021', 联系电话: '139****5678', mental: null, note: '身份证 510104********0021，电话138****8000',
      nested: [{ zjhm: '510104********002X' }], anyCol: '138****8000', amount: 12,
    });
    expect(protect(who('department-admin', []), 'QuarantinedRecord', 'payload', { idNumber: '510104198512310021' })).toEqual({ idNumber: '510104********0021' });
  });

  it('lists, for every type, only fields the name heuristics or the special categories recognise', () => {
    for (const [type, fields] of Object.entries(SENSITIVE_FIELDS)) {
      for (const [field, policy] of Object.entries(fields)) {
        if ((policy.kind === 'id_number' || policy.kind === 'phone') && policy.treatment !== 'mask_json') expect([type, field, looksSensitive(field)]).toEqual([type, field, policy.kind]);
        expect(['mask_id', 'mask_phone', 'null', 'mask_json']).toContain(policy.treatment);
      }
    }
    expect(looksSensitive('petitionerIdNumber')).toBe('id_number');
    expect(looksSensitive('reporterPhone')).toBe('phone');
    expect(looksSensitive('address')).toBeNull();
  });

  it('has a policy for every role', () => {
    expect(Object.keys(ROLE_POLICIES).sort()).toEqual(['analyst', 'city-admin', 'department-admin', 'district-officer', 'grid-worker', 'integrator']);
  });
});

describe('internal key', () => {
  it('falls back to the development key outside production and refuses it in production', () => {
    expect(internalKey({ SECRET_KEY: '', NODE_ENV: 'development' })).toBe('tonglan-dev-internal-key');
    expect(internalKey({ SECRET_KEY: 'a-very-long-random-secret', NODE_ENV: 'production' })).toBe('a-very-long-random-secret');
    expect(() => internalKey({ SECRET_KEY: '', NODE_ENV: 'production' })).toThrow(/SECRET_KEY must be set/);
    expect(() => internalKey({ SECRET_KEY: 'tonglan-dev-internal-key', NODE_ENV: 'production' })).toThrow(/production/);
  });
});
