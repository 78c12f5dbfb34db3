import { uuidv7 } from '../uuidv7';

describe('uuidv7: time-ordered ids of rows made in bulk', () => {
  it('has the version 7 layout, and the time of its making in its first 48 bits', () => {
    const before = Date.now();
    const id = uuidv7();
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const ms = parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
    expect(ms).toBeGreaterThanOrEqual(before);
    expect(ms).toBeLessThanOrEqual(Date.now() + 1);
  });

  it('keeps ids made in one millisecond in order, unique, and borrows the next millisecond after 4,096', () => {
    const at = Date.now() + 60_000; // a millisecond no earlier call used
    const ids = Array.from({ length: 5000 }, () => uuidv7(at));
    expect(new Set(ids).size).toBe(5000);
    for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!).toBe(true);
    const msOf = (id: string) => parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
    expect(msOf(ids[0]!)).toBe(at);
    expect(msOf(ids[ids.length - 1]!)).toBe(at + 1);
    // A clock that went back (or a caller's older time) still gives larger ids: the last millisecond is kept.
    expect(uuidv7(at - 5000) > ids[ids.length - 1]!).toBe(true);
  });

  it('gives each call its own string (the buffer it is written in is reused)', () => {
    const a = uuidv7();
    const b = uuidv7();
    expect(a).not.toBe(b);
    expect(a).toMatch(/^[0-9a-f-]{36}$/);
  });
});
