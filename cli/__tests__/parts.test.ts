import { PARTS, loadPart } from '../parts';

describe('parts registry', () => {
  it.each(PARTS.map((p) => [p.name, p] as const))('%s loads and exports its part definition', (_name, entry) => {
    const part = loadPart(entry);
    expect(part.name).toBe(entry.name);
    expect(typeof part.start).toBe('function');
    expect(part.description.length).toBeGreaterThan(5);
  });
});
