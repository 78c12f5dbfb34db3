import { toHalfWidth } from './text';

/**
 * The key under which a written address is looked up before it is parsed: half-width, no whitespace or
 * punctuation. The parsed, canonical key of a place comes from the address parser (address-parser.ts).
 */
export function rawAddressKey(address: string | null | undefined): string | null {
  if (address == null) return null;
  const v = toHalfWidth(address).replace(/[\s,，。.、;；:：()（）\-—_]/g, '');
  return v || null;
}
