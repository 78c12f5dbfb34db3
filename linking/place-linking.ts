import type { PoolClient } from '../platform/db';
import { HubError } from '../platform/errors';
import { rawAddressKey } from './address-key';
import type { PlaceLink, PlaceMention } from './types';

/**
 * Place linking for one batch: each address becomes (or joins) one `core.places` row by its normalised key,
 * in one INSERT … ON CONFLICT (norm_key) statement, so equal addresses in concurrent batches meet in one row.
 */
export async function linkPlaces(client: PoolClient, mentions: PlaceMention[]): Promise<PlaceLink[]> {
  if (!mentions.length) return [];
  const keyed = mentions.map((m, i) => {
    if (!m.ref) throw new HubError('TL_ERR_BAD_USER_INPUT', `place mention ${i} needs a ref`, { index: i });
    return { m, key: rawAddressKey(m.address) };
  });
  const rows = new Map<string, PlaceMention>();
  for (const k of keyed) if (k.key && !rows.has(k.key)) rows.set(k.key, k.m);
  const keys = [...rows.keys()].sort();
  const byKey = new Map<string, { id: string; grid_code: string | null; parse_status: PlaceLink['status'] }>();
  if (keys.length) {
    await client.query(
      `INSERT INTO core.places (address, norm_key, lon, lat, parse_status, parse_error)
       SELECT address, norm_key, lon, lat, 'unparsed', 'no division matched'
         FROM unnest($1::text[], $2::text[], $3::float8[], $4::float8[]) AS t(address, norm_key, lon, lat)
       ON CONFLICT (norm_key) DO NOTHING`,
      [keys.map((k) => rows.get(k)!.address.trim()), keys, keys.map((k) => rows.get(k)!.lon ?? null), keys.map((k) => rows.get(k)!.lat ?? null)]);
    const r = await client.query('SELECT id, norm_key, grid_code, parse_status FROM core.places WHERE norm_key = ANY($1::text[])', [keys]);
    for (const row of r.rows) byKey.set(row.norm_key, row);
  }
  return keyed.map(({ m, key }) => {
    const row = key ? byKey.get(key) : undefined;
    if (!row) return { ref: m.ref, placeId: null, gridCode: null, status: 'unparsed', reason: 'empty address' };
    return { ref: m.ref, placeId: row.id, gridCode: row.grid_code, status: row.parse_status };
  });
}
