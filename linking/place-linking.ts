import type { PoolClient } from '../platform/db';
import { HubError } from '../platform/errors';
import { parseAddress, type ParsedAddress } from './address-parser';
import { gridAt, loadGazetteer, type Gazetteer } from './gazetteer';
import type { PlaceLink, PlaceMention } from './types';

/**
 * Place linking for one batch, in a fixed number of statements: every address is parsed against the division
 * table, keyed (`norm_key`: all spellings of one place share it) and upserted into `core.places` with
 * INSERT … ON CONFLICT (norm_key), so concurrent batches meet in one row. The grid comes from, in order:
 *  1. coordinates inside a grid polygon (point in polygon);
 *  2. the grid already known for another place of the same building (the building key);
 *  3. the community, when it has a single grid.
 * Addresses that do not parse are kept too (parse_status 'unparsed' or 'partial', with the reason in
 * parse_error), so that nothing a department wrote is lost and a later fix can re-parse them.
 */
const parseCache = new WeakMap<Gazetteer, Map<string, ParsedAddress>>();

export function parseWithCache(address: string, g: Gazetteer): ParsedAddress {
  let cache = parseCache.get(g);
  if (!cache) parseCache.set(g, (cache = new Map()));
  let p = cache.get(address);
  if (!p) {
    p = parseAddress(address, g);
    if (cache.size > 500_000) cache.clear();
    cache.set(address, p);
  }
  return p;
}

interface PlaceRow {
  key: string;
  parsed: ParsedAddress;
  address: string;
  lon: number | null;
  lat: number | null;
  gridCode: string | null;
  /** How the grid was found; 'division': only a community, street or district code is known. */
  gridSource: 'polygon' | 'building' | 'community' | 'division' | null;
}

export async function linkPlaces(client: PoolClient, mentions: PlaceMention[]): Promise<PlaceLink[]> {
  if (!mentions.length) return [];
  const g = await loadGazetteer(client);
  const rows = new Map<string, PlaceRow>();
  const keyOf: Array<string | null> = mentions.map((m, i) => {
    if (!m.ref) throw new HubError('TL_ERR_BAD_USER_INPUT', `place mention ${i} needs a ref`, { index: i });
    if (m.address == null || !String(m.address).trim()) return null;
    const parsed = parseWithCache(String(m.address), g);
    const hasPoint = typeof m.lon === 'number' && typeof m.lat === 'number' && Number.isFinite(m.lon) && Number.isFinite(m.lat);
    let row = rows.get(parsed.normKey);
    if (!row) {
      row = { key: parsed.normKey, parsed, address: parsed.status === 'unparsed' ? String(m.address).trim() : parsed.standard, lon: null, lat: null, gridCode: null, gridSource: null };
      rows.set(parsed.normKey, row);
    }
    if (hasPoint && row.gridSource !== 'polygon') {
      const area = gridAt(g, m.lon!, m.lat!);
      row.lon = m.lon!;
      row.lat = m.lat!;
      if (area) { row.gridCode = area.code; row.gridSource = 'polygon'; }
    }
    return parsed.normKey;
  });

  const rekeyed = await resolveDistricts(client, rows);

  // Grids and communities known for the buildings of this batch: from coordinates and community names in the
  // batch, then from stored places of the same building.
  const buildingGrid = new Map<string, string>();
  const buildingCommunity = new Map<string, string>();
  for (const r of rows.values()) {
    if (!r.parsed.buildingKey) continue;
    if (r.gridSource === 'polygon') buildingGrid.set(r.parsed.buildingKey, r.gridCode!);
    if (r.parsed.communityCode) buildingCommunity.set(r.parsed.buildingKey, r.parsed.communityCode);
  }
  const unknownBuildings = [...new Set([...rows.values()].filter((r) => r.gridSource !== 'polygon' && r.parsed.buildingKey && !buildingGrid.has(r.parsed.buildingKey)).map((r) => r.parsed.buildingKey!))];
  if (unknownBuildings.length) {
    const known = await client.query<{ building_key: string; code: string; n: number }>(
      `SELECT building_key, code, count(*)::int AS n FROM (
         SELECT building_key, CASE WHEN length(grid_code) = 15 THEN grid_code ELSE division_code END AS code
           FROM core.places WHERE building_key = ANY($1::text[])) t
        WHERE length(code) IN (12, 15) GROUP BY 1, 2 ORDER BY building_key, n DESC, code`, [unknownBuildings]);
    for (const k of known.rows) {
      // Most frequent first: a grid (15 digits) or, failing that, a community (12).
      if (k.code.length === 15 && !buildingGrid.has(k.building_key)) buildingGrid.set(k.building_key, k.code);
      if (!buildingCommunity.has(k.building_key)) buildingCommunity.set(k.building_key, k.code.slice(0, 12));
    }
  }
  for (const r of rows.values()) {
    if (r.gridSource === 'polygon') continue;
    const building = r.parsed.buildingKey;
    const fromBuilding = building ? buildingGrid.get(building) : undefined;
    if (fromBuilding) { r.gridCode = fromBuilding; r.gridSource = 'building'; continue; }
    const communityCode = r.parsed.communityCode ?? (building ? buildingCommunity.get(building) : undefined);
    const community = communityCode ? g.communities.get(communityCode) : undefined;
    if (community && community.grids.length === 1) { r.gridCode = community.grids[0]!.code; r.gridSource = 'community'; continue; }
    // Not known to the grid: the most precise level that is (community, street or district), so that a
    // district or community officer's scope (a prefix of grid codes) still covers the place.
    const level = community?.code ?? r.parsed.streetCode ?? r.parsed.districtCode;
    if (level && (g.communities.has(level) || g.streetName.has(level) || g.districtName.has(level))) { r.gridCode = level; r.gridSource = 'division'; }
  }

  const list = [...rows.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const byKey = new Map<string, { id: string; grid_code: string | null; parse_status: PlaceLink['status']; parse_error: string | null }>();
  if (list.length) {
    const col = <T>(fn: (r: PlaceRow) => T) => list.map(fn);
    await client.query(
      `INSERT INTO core.places (address, norm_key, district, street, community, road, number, building, unit, room,
          division_code, grid_code, lon, lat, parse_status, parse_error, building_key, house_key)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
          $9::text[], $10::text[], $11::text[], $12::text[], $13::float8[], $14::float8[], $15::text[], $16::text[], $17::text[],
          $18::text[])
       ON CONFLICT (norm_key) DO UPDATE SET
         grid_code = CASE WHEN length(coalesce(EXCLUDED.grid_code, '')) > length(coalesce(core.places.grid_code, ''))
                          THEN EXCLUDED.grid_code ELSE core.places.grid_code END,
         lon = coalesce(EXCLUDED.lon, core.places.lon), lat = coalesce(EXCLUDED.lat, core.places.lat), updated_at = now()
       WHERE (EXCLUDED.grid_code IS NOT NULL AND length(EXCLUDED.grid_code) > length(coalesce(core.places.grid_code, '')))
          OR (core.places.lon IS NULL AND EXCLUDED.lon IS NOT NULL)`,
      [col((r) => r.address), col((r) => r.key), col((r) => r.parsed.district ?? null), col((r) => r.parsed.street ?? null),
        col((r) => r.parsed.community ?? null), col((r) => r.parsed.road ?? null),
        col((r) => (r.parsed.group !== undefined ? `${r.parsed.group}组${r.parsed.number ?? ''}` : r.parsed.number ?? null)),
        col((r) => r.parsed.building ?? null), col((r) => r.parsed.unit ?? null), col((r) => r.parsed.room ?? null),
        col((r) => r.parsed.communityCode ?? (r.gridCode && r.gridCode.length >= 12 ? r.gridCode.slice(0, 12) : null) ?? r.parsed.streetCode ?? r.parsed.districtCode ?? null),
        col((r) => r.gridCode),
        col((r) => r.lon), col((r) => r.lat), col((r) => r.parsed.status), col((r) => r.parsed.reason ?? null),
        col((r) => r.parsed.buildingKey), col((r) => r.parsed.houseKey)]);
    const found = await client.query('SELECT id, norm_key, grid_code, parse_status, parse_error FROM core.places WHERE norm_key = ANY($1::text[])', [list.map((r) => r.key)]);
    for (const row of found.rows) byKey.set(row.norm_key, row);
    // Coordinates placed a building in a grid: its other rooms, stored earlier without a grid, follow.
    const located = list.filter((r) => r.gridSource === 'polygon' && r.parsed.buildingKey);
    if (located.length) {
      await client.query(
        `UPDATE core.places p SET grid_code = b.grid_code, updated_at = now()
           FROM unnest($1::text[], $2::text[]) AS b(building_key, grid_code)
          WHERE p.building_key = ANY($1::text[]) AND p.building_key = b.building_key
            AND (p.grid_code IS NULL OR length(p.grid_code) < 15)`,
        [located.map((r) => r.parsed.buildingKey), located.map((r) => r.gridCode)]);
    }
  }

  return mentions.map((m, i) => {
    const key = keyOf[i] && (rekeyed.get(keyOf[i]!) ?? keyOf[i]);
    if (!key) return { ref: m.ref, placeId: null, gridCode: null, status: 'unparsed', reason: 'empty address' };
    const row = byKey.get(key)!;
    const r = rows.get(key)!;
    const reason = row.parse_error ?? (row.grid_code?.length === 15 ? undefined : gridReason(r, g));
    return { ref: m.ref, placeId: row.id, gridCode: row.grid_code, status: row.parse_status, ...(reason ? { reason } : {}) };
  });
}

function gridReason(r: PlaceRow, g: Gazetteer): string {
  const code = r.parsed.communityCode ?? (r.gridCode?.length === 12 ? r.gridCode : undefined);
  const community = code ? g.communities.get(code) : undefined;
  if (!community) return `grid not determined: community unknown${r.gridCode ? `, placed at ${r.gridCode}` : ''}`;
  return `grid not determined: community ${community.name} has ${community.grids.length} grids and the address has no coordinates`;
}

/** The norm_key a person's address is compared by (the same key its place has). */
export function placeKeyFor(address: string, g: Gazetteer): string | null {
  const p = parseWithCache(address, g);
  return p.personKey;
}

/**
 * Urban addresses written without a district (人民路19号1幢…) get it from places of the same road, number and
 * building that have one, in this batch or stored, when exactly one district has such a building. The row is
 * re-keyed (and merged with the row of that key). Returns old key → new key.
 */
async function resolveDistricts(client: PoolClient, rows: Map<string, PlaceRow>): Promise<Map<string, string>> {
  const rekeyed = new Map<string, string>();
  const orphans = [...rows.values()].filter((r) => r.parsed.houseKey && !r.parsed.districtCode);
  if (!orphans.length) return rekeyed;
  const districts = new Map<string, Set<string>>();
  for (const r of rows.values()) {
    if (r.parsed.houseKey && r.parsed.districtCode) {
      let set = districts.get(r.parsed.houseKey);
      if (!set) districts.set(r.parsed.houseKey, (set = new Set()));
      set.add(r.parsed.districtCode);
    }
  }
  const stored = await client.query<{ house_key: string; district: string }>(
    `SELECT DISTINCT house_key, left(building_key, 6) AS district FROM core.places
      WHERE house_key = ANY($1::text[]) AND building_key IS NOT NULL`,
    [[...new Set(orphans.map((o) => o.parsed.houseKey!))]]);
  for (const s of stored.rows) {
    let set = districts.get(s.house_key);
    if (!set) districts.set(s.house_key, (set = new Set()));
    set.add(s.district);
  }
  for (const r of orphans) {
    const set = districts.get(r.parsed.houseKey!);
    if (!set || set.size !== 1) continue;
    const [districtCode] = [...set] as [string];
    const parsed: ParsedAddress = {
      ...r.parsed, districtCode, status: r.parsed.road ? 'parsed' : 'partial',
      normKey: r.parsed.normKey.replace(/^U\|\?\|/, `U|${districtCode}|`),
      buildingKey: `${districtCode}|${r.parsed.houseKey}`,
    };
    if (parsed.status === 'parsed') delete parsed.reason;
    rows.delete(r.key);
    rekeyed.set(r.key, parsed.normKey);
    const existing = rows.get(parsed.normKey);
    if (existing) {
      if (!existing.gridCode && r.gridCode) Object.assign(existing, { gridCode: r.gridCode, gridSource: r.gridSource, lon: r.lon, lat: r.lat });
    } else {
      rows.set(parsed.normKey, { ...r, key: parsed.normKey, parsed });
    }
  }
  return rekeyed;
}
