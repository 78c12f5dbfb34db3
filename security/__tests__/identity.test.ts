import { decodeIdentity, encodeIdentity, IDENTITY_HEADER_TTL_SECONDS, type Identity } from '../identity';

const who: Identity = { sub: 'gw-1', role: 'grid-worker', grids: ['510104001001003'], districts: [], scopes: ['pii:read'] };
const KEY = 'k'.repeat(32);

describe('forwarded identity header', () => {
  it('round-trips a signed identity and refuses another key or an edited payload', () => {
    const header = encodeIdentity(who, KEY);
    expect(decodeIdentity(header, KEY)).toEqual(who);
    expect(decodeIdentity(header, 'other-key')).toBeNull();
    const [payload, mac] = header.split('.');
    const raised = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), role: 'city-admin' })).toString('base64url');
    expect(decodeIdentity(`${raised}.${mac}`, KEY)).toBeNull();
    expect(decodeIdentity(undefined, KEY)).toBeNull();
    expect(decodeIdentity('garbage', KEY)).toBeNull();
  });

  it('expires, so a captured header cannot be replayed for long', () => {
    const now = Date.now();
    const header = encodeIdentity(who, KEY, { now });
    expect(decodeIdentity(header, KEY, now + (IDENTITY_HEADER_TTL_SECONDS - 5) * 1000)).toEqual(who);
    expect(decodeIdentity(header, KEY, now + (IDENTITY_HEADER_TTL_SECONDS + 5) * 1000)).toBeNull();
    // Headers made without expiry (tools holding the key) stay valid.
    expect(decodeIdentity(encodeIdentity(who, KEY, { ttlSeconds: 0 }), KEY, now + 365 * 86400_000)).toEqual(who);
  });
});
