import { encodeIdentity, type Identity } from '../../../security/identity';
import { createIdentityVerifier } from '../create-subgraph-server';

/** The subgraphs' check of the gateway's signed identity header, with its short memory of verified headers. */
const KEY = 'identity-verifier-test-key-0123456789abcdef';
const worker: Identity = { sub: 'u-worker', role: 'grid-worker', grids: ['510104018001001'], districts: [], scopes: [] };

describe('createIdentityVerifier', () => {
  it('accepts a header signed with the key, again from memory, and refuses tampered or foreign ones', () => {
    const verify = createIdentityVerifier(KEY);
    const header = encodeIdentity(worker, KEY);
    expect(verify(header)).toEqual(worker);
    expect(verify(header)).toEqual(worker);
    const [payload, signature] = header.split('.');
    const forged = Buffer.from(JSON.stringify({ ...worker, role: 'city-admin', exp: Math.floor(Date.now() / 1000) + 900 })).toString('base64url');
    expect(verify(`${forged}.${signature}`)).toBeNull();
    expect(verify(`${payload}.${signature![0] === 'A' ? 'B' : 'A'}${signature!.slice(1)}`)).toBeNull();
    expect(verify(encodeIdentity(worker, 'another-key-0123456789abcdef-0123456789'))).toBeNull();
    expect(verify(undefined)).toBeNull();
  });

  it('never remembers a header past its expiry', async () => {
    const verify = createIdentityVerifier(KEY, { maxAgeMs: 60_000 });
    const header = encodeIdentity(worker, KEY, { ttlSeconds: 1 });
    expect(verify(header)).toEqual(worker);
    await new Promise((r) => setTimeout(r, 1100));
    expect(verify(header)).toBeNull();
  });
});
