import { createSecretBox, isEnvelope } from '../secrets';

const dev = { SECRET_KEY: '', SECRET_KEYS_OLD: '', NODE_ENV: 'development' as const };

describe('secrets at rest', () => {
  it('round-trips values in an AES-256-GCM envelope that does not contain the plaintext', () => {
    const box = createSecretBox({ ...dev, SECRET_KEY: 'key-one-0123456789' });
    const value = { password: '口令-s3cret', token: 'abc' };
    const env = box.encrypt(value);
    expect(isEnvelope(env)).toBe(true);
    expect(env.kid).toBe(box.currentKid);
    expect(JSON.stringify(env)).not.toContain('s3cret');
    expect(box.decrypt(env)).toEqual(value);
    expect(box.decrypt(JSON.parse(JSON.stringify(env)))).toEqual(value);
    // A fresh IV each time.
    expect(box.encrypt(value).data).not.toBe(env.data);
  });

  it('refuses an altered envelope and an envelope moved to another record', () => {
    const box = createSecretBox({ ...dev, SECRET_KEY: 'key-one-0123456789' });
    const env = box.encrypt('pw', 'connector:1');
    expect(box.decrypt(env, 'connector:1')).toBe('pw');
    expect(() => box.decrypt(env, 'connector:2')).toThrow(/failed authentication/);
    const data = Buffer.from(env.data, 'base64');
    data[0] ^= 1;
    expect(() => box.decrypt({ ...env, data: data.toString('base64') }, 'connector:1')).toThrow(/failed authentication/);
    expect(() => box.decrypt({ nope: 1 })).toThrow(/Not a secret envelope/);
  });

  it('rotates: old keys still decrypt while listed, new envelopes use the current key, reencrypt moves them', () => {
    const before = createSecretBox({ ...dev, SECRET_KEY: 'old-key-0123456789' });
    const env = before.encrypt({ password: 'pw' });
    const after = createSecretBox({ ...dev, SECRET_KEY: 'new-key-0123456789', SECRET_KEYS_OLD: 'older-key-xxxxxxxx, old-key-0123456789' });
    expect(after.currentKid).not.toBe(before.currentKid);
    expect(after.decrypt(env)).toEqual({ password: 'pw' });
    expect(after.needsReencryption(env)).toBe(true);
    const moved = after.reencrypt(env);
    expect(moved.kid).toBe(after.currentKid);
    expect(after.needsReencryption(moved)).toBe(false);
    expect(after.reencrypt(moved)).toBe(moved);
    const dropped = createSecretBox({ ...dev, SECRET_KEY: 'new-key-0123456789' });
    expect(dropped.decrypt(moved)).toEqual({ password: 'pw' });
    expect(() => dropped.decrypt(env)).toThrow(/neither SECRET_KEY nor listed in SECRET_KEYS_OLD/);
  });

  it('uses a development key outside production and refuses it in production', () => {
    const a = createSecretBox(dev);
    expect(a.decrypt(createSecretBox(dev).encrypt(1))).toBe(1);
    expect(() => createSecretBox({ ...dev, NODE_ENV: 'production' })).toThrow(/SECRET_KEY must be set/);
    expect(() => createSecretBox({ ...dev, NODE_ENV: 'production', SECRET_KEY: 'tonglan-dev-secret-key' })).toThrow(/SECRET_KEY/);
  });
});
