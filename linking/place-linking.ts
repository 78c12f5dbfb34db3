import type { PoolClient, Queryable } from '../platform/db';
import { HubError } from '../platform/errors';
import { uuidv7 } from '../platform/uuidv7';
import { cleanAddress, parseAddress, type ParsedAddress } from './address-parser';
import { copyRows } from './copy-text';
import { gridAt, loadGazetteer, type Gazetteer } from './gazetteer';
import { keyList } from './key-list';
import type { PlaceLink, PlaceMention } from './types';

/**
 * Place linking for one batch, in a fixed number of statements: every address is parsed against the division
 * table, keyed (`norm_key`: all spellings of one place share it) and upserted into `core.places` with
 * INSERT … ON CONFLICT (norm_key), so concurrent batches meet in one row. The address is looked up in the
 * standard-address register (core.buildings, 标准地址库) by its building, by road + number + building when the
 * district is left out (when only one building of the register has them), or by 小区 name + building; a place
 * found there is re-keyed to the register's building, so all its spellings meet. The grid comes from, in order:
 *  1. coordinates inside a grid polygon (point in polygon);
 *  2. the register building's grid;
 *  3. the grid already known for another place of the same building (the building key);
 *  4. the community, when it has a single grid.
 * An address not in the register says so in its reason (when a register is loaded at all).
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

interface StoredPlace { id: string; grid_code: string | null; parse_status: PlaceLink['status']; parse_error: string | null }

interface PlaceRow {
  key: string;
  parsed: ParsedAddress;
  address: string;
  lon: number | null;
  lat: number | null;
  gridCode: string | null;
  /** How the grid was found; 'division': only a community, street or district code is known. */
  gridSource: 'polygon' | 'register' | 'building' | 'community' | 'division' | null;
  /** The register building (core.buildings) the address was resolved to. */
  buildingId: string | null;
  registerGrid: string | null;
  /** Why the register did not resolve the address (only when a register is loaded). */
  registerNote?: string;
}

export async function linkPlaces(client: PoolClient, mentions: PlaceMention[], gazetteer?: Gazetteer): Promise<PlaceLink[]> {
  if (!mentions.length) return [];
  const g = gazetteer ?? await loadGazetteer(client);
  const rows = new Map<string, PlaceRow>();
  const keyOf: Array<string | null> = mentions.map((m, i) => {
    if (!m.ref) throw new HubError('TL_ERR_BAD_USER_INPUT', `place mention ${i} needs a ref`, { index: i });
    if (m.address == null || !String(m.address).trim()) return null;
    const parsed = parseWithCache(String(m.address), g);
    const hasPoint = typeof m.lon === 'number' && typeof m.lat === 'number' && Number.isFinite(m.lon) && Number.isFinite(m.lat);
    let row = rows.get(parsed.normKey);
    if (!row) {
      row = { key: parsed.normKey, parsed, address: parsed.status === 'unparsed' ? String(m.address).trim() : parsed.standard, lon: null, lat: null, gridCode: null, gridSource: null, buildingId: null, registerGrid: null };
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

  const rekeyed = new Map<string, string>();
  const hasRegister = await resolveRegister(client, rows, rekeyed, g);
  const beforeDistricts = new Set(rekeyed.keys());
  await resolveDistricts(client, rows, rekeyed);
  // A building the register has in several districts, placed in one by other places of the same building:
  // look it up again under that district.
  if (hasRegister && [...rekeyed.keys()].some((k) => !beforeDistricts.has(k))) {
    await resolveRegister(client, rows, rekeyed, g, (r) => !r.buildingId && r.parsed.buildingKey !== null);
  }

  // Grids and communities known for the buildings of this batch: from coordinates and community names in the
  // batch, then from stored places of the same building.
  const buildingGrid = new Map<string, string>();
  const buildingCommunity = new Map<string, string>();
  for (const r of rows.values()) {
    if (!r.parsed.buildingKey) continue;
    if (r.gridSource === 'polygon') buildingGrid.set(r.parsed.buildingKey, r.gridCode!);
    if (r.parsed.communityCode) buildingCommunity.set(r.parsed.buildingKey, r.parsed.communityCode);
  }
  // Only buildings of rows that need them: a row the register resolved takes the register's grid, and every row of a
  // register building is resolved (all rows with its building key find it), so its stored places are not read.
  const unknownBuildings = [...new Set([...rows.values()]
    .filter((r) => r.gridSource !== 'polygon' && !r.registerGrid && r.parsed.buildingKey && !buildingGrid.has(r.parsed.buildingKey))
    .map((r) => r.parsed.buildingKey!))];
  if (unknownBuildings.length) {
    const keys = keyList(unknownBuildings);
    const known = await client.query<{ building_key: string; code: string; n: number }>(
      `SELECT building_key, code, count(*)::int AS n FROM (
         SELECT building_key, CASE WHEN length(grid_code) = 15 THEN grid_code ELSE division_code END AS code
           FROM core.places WHERE building_key = ANY(${keys.sql(1)})) t
        WHERE length(code) IN (12, 15) GROUP BY 1, 2 ORDER BY building_key, n DESC, code`, [keys.value]);
    for (const k of known.rows) {
      // Most frequent first: a grid (15 digits) or, failing that, a community (12).
      if (k.code.length === 15 && !buildingGrid.has(k.building_key)) buildingGrid.set(k.building_key, k.code);
      if (!buildingCommunity.has(k.building_key)) buildingCommunity.set(k.building_key, k.code.slice(0, 12));
    }
  }
  for (const r of rows.values()) {
    if (r.gridSource === 'polygon') continue;
    if (r.registerGrid) { r.gridCode = r.registerGrid; r.gridSource = 'register'; continue; }
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
  const byKey = new Map<string, StoredPlace>();
  if (list.length) {
    // What is stored already, read first: most addresses of a batch were seen before (a person's other records,
    // the rooms of one building), and a place the batch would not change is not written at all (an upsert that
    // changes nothing still locks and dirties its row).
    const keys = keyList(list.map((r) => r.key));
    const stored = await client.query<StoredPlace & { norm_key: string; lon: number | null; building_id: string | null }>(
      `SELECT id, norm_key, grid_code, parse_status, parse_error, lon, building_id FROM core.places WHERE norm_key = ANY(${keys.sql(1)})`,
      [keys.value]);
    const current = new Map(stored.rows.map((row) => [row.norm_key, row]));
    for (const row of stored.rows) byKey.set(row.norm_key, row);
    // The upsert's own condition (its WHERE below), for the rows read: a longer grid, a first point, a register building.
    const write = list.filter((r) => {
      const c = current.get(r.key);
      return !c || (!!r.gridCode && r.gridCode.length > (c.grid_code ?? '').length) || (c.lon === null && r.lon !== null)
        || (c.building_id === null && r.buildingId !== null);
    });
    // New places only (the common case: a batch's unknown addresses): COPYed, with ids made here, inside a savepoint.
    // Another transaction may have inserted one of the keys since the read: the COPY then fails (23505, after
    // waiting for that transaction to commit, as the upsert's insert would) and the batch falls back to the upsert,
    // which meets that row. A batch that also changes stored places uses the upsert for all of them, one statement
    // taking its row locks in key order, as before.
    const copied = write.length > 0 && write.every((r) => !current.has(r.key)) && await copyNewPlaces(client, write, g, hasRegister);
    if (copied) {
      for (const r of copied) byKey.set(r.norm_key, r);
    } else if (write.length) {
      const values = write.map((r) => placeRow(r, g, hasRegister));
      const upserted = await client.query<StoredPlace & { norm_key: string }>(
        `INSERT INTO core.places (address, norm_key, district, street, community, road, number, building, unit, room,
            division_code, grid_code, lon, lat, parse_status, parse_error, building_key, house_key, building_id, id)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
            $9::text[], $10::text[], $11::text[], $12::text[], $13::float8[], $14::float8[], $15::text[], $16::text[], $17::text[],
            $18::text[], $19::uuid[], $20::uuid[])
         ON CONFLICT (norm_key) DO UPDATE SET
           grid_code = CASE WHEN EXCLUDED.building_id IS NOT NULL AND core.places.building_id IS NULL AND length(EXCLUDED.grid_code) = 15
                            THEN EXCLUDED.grid_code
                            WHEN length(coalesce(EXCLUDED.grid_code, '')) > length(coalesce(core.places.grid_code, ''))
                            THEN EXCLUDED.grid_code ELSE core.places.grid_code END,
           building_id = coalesce(core.places.building_id, EXCLUDED.building_id),
           parse_error = CASE WHEN core.places.building_id IS NULL AND EXCLUDED.building_id IS NOT NULL
                              THEN EXCLUDED.parse_error ELSE core.places.parse_error END,
           lon = coalesce(EXCLUDED.lon, core.places.lon), lat = coalesce(EXCLUDED.lat, core.places.lat), updated_at = now()
         WHERE (EXCLUDED.grid_code IS NOT NULL AND length(EXCLUDED.grid_code) > length(coalesce(core.places.grid_code, '')))
            OR (core.places.lon IS NULL AND EXCLUDED.lon IS NOT NULL)
            OR (core.places.building_id IS NULL AND EXCLUDED.building_id IS NOT NULL)
         RETURNING id, norm_key, grid_code, parse_status, parse_error`,
        PLACE_COLUMNS.map((_, i) => values.map((v) => v[i])));
      const written = new Set<string>();
      for (const row of upserted.rows) { byKey.set(row.norm_key, row); written.add(row.norm_key); }
      // A row another transaction stored meanwhile that this one did not change is not returned: read it.
      const unseen = write.filter((r) => !written.has(r.key) && !current.has(r.key)).map((r) => r.key);
      if (unseen.length) {
        const found = await client.query<StoredPlace & { norm_key: string }>(
          'SELECT id, norm_key, grid_code, parse_status, parse_error FROM core.places WHERE norm_key = ANY($1::text[])', [unseen]);
        for (const row of found.rows) byKey.set(row.norm_key, row);
      }
    }
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
    let key = keyOf[i];
    for (let hops = 0; key && rekeyed.has(key) && hops < 4; hops++) key = rekeyed.get(key)!;
    if (!key) return { ref: m.ref, placeId: null, gridCode: null, status: 'unparsed', reason: 'empty address' };
    const row = byKey.get(key)!;
    const r = rows.get(key)!;
    const reason = row.parse_error ?? (row.grid_code?.length === 15 ? undefined : gridReason(r, g));
    return { ref: m.ref, placeId: row.id, gridCode: row.grid_code, status: row.parse_status, ...(reason ? { reason } : {}) };
  });
}

/** The columns a place is written with, in the order of placeRow's values (the upsert's arrays, the COPY's fields). */
const PLACE_COLUMNS = ['address', 'norm_key', 'district', 'street', 'community', 'road', 'number', 'building', 'unit', 'room',
  'division_code', 'grid_code', 'lon', 'lat', 'parse_status', 'parse_error', 'building_key', 'house_key', 'building_id', 'id'] as const;

function placeRow(r: PlaceRow, g: Gazetteer, hasRegister: boolean): Array<string | number | null> {
  const p = r.parsed;
  return [r.address, r.key, p.district ?? null, p.street ?? null, p.community ?? null, p.road ?? null,
    p.group !== undefined ? `${p.group}组${p.number ?? ''}` : p.number ?? null,
    p.building ?? null, p.unit ?? null, p.room ?? null,
    p.communityCode ?? (r.gridCode && r.gridCode.length >= 12 ? r.gridCode.slice(0, 12) : null) ?? p.streetCode ?? p.districtCode ?? null,
    r.gridCode, r.lon, r.lat, p.status, storedReason(r, g, hasRegister), p.buildingKey, p.houseKey, r.buildingId,
    // Time-ordered ids (platform/uuidv7.ts): a batch's new places land on neighbouring pages of the primary key.
    uuidv7()];
}

/**
 * New places by COPY inside a savepoint. Returns what the upsert would have returned for them (they are all new:
 * the row as written), or null when the upsert must do it instead: another transaction inserted one of the keys
 * since they were read (23505; the savepoint is rolled back), or there is no transaction block to make a savepoint in.
 */
async function copyNewPlaces(client: PoolClient, write: PlaceRow[], g: Gazetteer, hasRegister: boolean): Promise<Array<StoredPlace & { norm_key: string }> | null> {
  try {
    await client.query('SAVEPOINT tl_places');
  } catch (err) {
    if ((err as { code?: string }).code === '25P01') return null; // SAVEPOINT outside a transaction block
    throw err;
  }
  const values = write.map((r) => placeRow(r, g, hasRegister));
  try {
    // The release queued right behind the COPY (one round trip less); if the COPY fails, the release fails too
    // (the transaction is aborted) and the savepoint is rolled back below.
    const copy = copyRows(client, 'core.places', PLACE_COLUMNS, values, (v, out) => { for (const x of v) if (typeof x === 'string') out.text(x); else out.plain(x); });
    const release = client.query('RELEASE SAVEPOINT tl_places');
    const [copied, released] = await Promise.allSettled([copy, release]);
    if (copied.status === 'rejected') throw copied.reason;
    if (released.status === 'rejected') throw released.reason;
  } catch (err) {
    if ((err as { code?: string }).code !== '23505') throw err;
    await client.query('ROLLBACK TO SAVEPOINT tl_places');
    await client.query('RELEASE SAVEPOINT tl_places');
    return null;
  }
  return write.map((r, i) => {
    const v = values[i]!;
    return { id: v[19] as string, norm_key: r.key, grid_code: r.gridCode, parse_status: r.parsed.status, parse_error: v[15] as string | null };
  });
}

/** What parse_error holds: the parser's reason, else (with a register loaded) why the register did not resolve it. */
function storedReason(r: PlaceRow, g: Gazetteer, hasRegister: boolean): string | null {
  if (!hasRegister || r.buildingId || r.parsed.status === 'unparsed') return r.parsed.reason ?? null;
  const note = r.registerNote ?? 'not in the standard address register';
  if (r.parsed.reason) return `${r.parsed.reason}; ${note}`;
  const how = r.gridCode?.length === 15
    ? r.gridSource === 'polygon' ? 'grid from its coordinates'
      : r.gridSource === 'building' ? 'grid from another place of the same building'
        : 'grid from its community (a single grid)'
    : gridReason(r, g);
  return `${note}; ${how}`;
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
async function resolveDistricts(client: PoolClient, rows: Map<string, PlaceRow>, rekeyed: Map<string, string>): Promise<void> {
  const orphans = [...rows.values()].filter((r) => r.parsed.houseKey && !r.parsed.districtCode);
  if (!orphans.length) return;
  const districts = new Map<string, Set<string>>();
  for (const r of rows.values()) {
    if (r.parsed.houseKey && r.parsed.districtCode) {
      let set = districts.get(r.parsed.houseKey);
      if (!set) districts.set(r.parsed.houseKey, (set = new Set()));
      set.add(r.parsed.districtCode);
    }
  }
  const keys = keyList([...new Set(orphans.map((o) => o.parsed.houseKey!))]);
  const stored = await client.query<{ house_key: string; district: string }>(
    `SELECT DISTINCT house_key, left(building_key, 6) AS district FROM core.places
      WHERE house_key = ANY(${keys.sql(1)}) AND building_key IS NOT NULL`,
    [keys.value]);
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
}

interface RegisterHit { id: string; building_key: string; house_key: string | null; compound_key: string | null; grid_code: string; community_code: string | null }

/**
 * Resolve the batch's addresses against the standard-address register (core.buildings), in one statement:
 *  - by the building key (district|road|number|building, or V|village|group|number);
 *  - an urban address without its district by road|number|building, when exactly one register building has
 *    them (several: the reason names the ambiguity);
 *  - an address naming the 小区 instead of road and number by community|小区|building.
 * A resolved row is re-keyed to the register building's canonical key (merged with a row of that key).
 * Returns whether a register is loaded at all.
 */
async function resolveRegister(
  client: PoolClient, rows: Map<string, PlaceRow>, rekeyed: Map<string, string>, g: Gazetteer, only: (r: PlaceRow) => boolean = () => true,
): Promise<boolean> {
  const byBuilding = new Set<string>();
  const byHouse = new Set<string>();
  const byCompound = new Set<string>();
  for (const r of rows.values()) {
    if (!only(r)) continue;
    const p = r.parsed;
    if (p.buildingKey) byBuilding.add(p.buildingKey);
    else if (p.houseKey && !p.districtCode) byHouse.add(p.houseKey);
    else if (p.compoundKey) byCompound.add(p.compoundKey);
  }
  const [bk, hk, ck] = [keyList([...byBuilding]), keyList([...byHouse]), keyList([...byCompound])];
  // Three index look-ups, one per key kind (a building found twice is one row): with the three conditions OR-ed in
  // one WHERE the planner read the whole register for each batch (40-55 ms for 2,000 keys against 107,000 buildings;
  // 2-4 ms as three look-ups).
  const { rows: found } = await client.query<RegisterHit & { any: boolean }>(
    `SELECT *, true AS any FROM (
       SELECT id, building_key, house_key, compound_key, grid_code, community_code FROM core.buildings WHERE building_key = ANY(${bk.sql(1)})
       UNION SELECT id, building_key, house_key, compound_key, grid_code, community_code FROM core.buildings WHERE house_key = ANY(${hk.sql(2)})
       UNION SELECT id, building_key, house_key, compound_key, grid_code, community_code FROM core.buildings WHERE compound_key = ANY(${ck.sql(3)})) hits
     UNION ALL
     SELECT NULL, NULL, NULL, NULL, NULL, NULL, EXISTS (SELECT 1 FROM core.buildings)`,
    [bk.value, hk.value, ck.value]);
  const hasRegister = found[found.length - 1]!.any;
  if (!hasRegister) return false;
  const building = new Map<string, RegisterHit>();
  const house = new Map<string, RegisterHit[]>();
  const compound = new Map<string, RegisterHit>();
  for (const b of found) {
    if (!b.id) continue;
    building.set(b.building_key, b);
    if (b.house_key) { const l = house.get(b.house_key) ?? []; l.push(b); house.set(b.house_key, l); }
    if (b.compound_key) compound.set(b.compound_key, b);
  }
  for (const r of [...rows.values()]) {
    const p = r.parsed;
    if (p.status === 'unparsed' || !only(r)) continue;
    let hit: RegisterHit | undefined;
    if (p.buildingKey) {
      hit = building.get(p.buildingKey);
      if (hit) { r.buildingId = hit.id; r.registerGrid = hit.grid_code; delete r.registerNote; continue; }
    } else if (p.houseKey && !p.districtCode) {
      const list = house.get(p.houseKey) ?? [];
      if (list.length === 1) hit = list[0];
      else if (list.length > 1) r.registerNote = `road, number and building match ${list.length} buildings of the standard address register in different districts (district left out)`;
    } else if (p.compoundKey) {
      hit = compound.get(p.compoundKey);
    }
    if (!hit) { r.registerNote ??= 'not in the standard address register'; continue; }
    // Re-key to the register building: the same place however it was written.
    const parsed = canonicalParsed(p, hit, g);
    rows.delete(r.key);
    rekeyed.set(r.key, parsed.normKey);
    const existing = rows.get(parsed.normKey);
    const target = existing ?? { ...r, key: parsed.normKey, parsed, address: parsed.standard };
    if (existing && existing.gridSource !== 'polygon' && r.gridSource === 'polygon') Object.assign(existing, { gridCode: r.gridCode, gridSource: r.gridSource, lon: r.lon, lat: r.lat });
    target.buildingId = hit.id;
    target.registerGrid = hit.grid_code;
    delete target.registerNote;
    rows.set(parsed.normKey, target);
  }
  return true;
}

/** The parsed form of an address resolved to a register building (district, road, number, building from it). */
function canonicalParsed(p: ParsedAddress, hit: RegisterHit, g: Gazetteer): ParsedAddress {
  const [districtCode, road, number, building] = hit.building_key.split('|') as [string, string, string, string];
  const community = hit.community_code ? g.communities.get(hit.community_code) : undefined;
  const houseKey = `${road}|${number}|${building}`;
  const out: ParsedAddress = {
    ...p, status: 'parsed', districtCode, district: g.districtName.get(districtCode),
    ...(community ? { communityCode: community.code, community: community.name, streetCode: community.streetCode, street: g.streetName.get(community.streetCode) } : {}),
    road, number, building, houseKey, buildingKey: hit.building_key, compoundKey: p.compoundKey,
    normKey: `U|${districtCode}|${houseKey}|${p.unit ?? ''}|${p.room ?? ''}`,
    personKey: `${houseKey}|${p.room ?? ''}`,
  };
  delete out.reason;
  out.standard = [out.district ?? '', out.street ?? '', out.community ?? '',
    `${road}${number}号${building}栋${p.unit ? `${p.unit}单元` : ''}${p.room ? `${p.room}室` : ''}`].join('');
  return out;
}

/** One building of a standard-address register, as a city's register (标准地址库) delivers it. */
export interface RegisterBuilding {
  /** The register's own id of the building. */
  sourceId: string;
  /** Its canonical standard address (district … road + number + building, or village + group + number). */
  address: string;
  gridCode: string;
  /** 小区 name, so that addresses naming the compound instead of road and number find the building. */
  compound?: string | null;
  lon?: number | null;
  lat?: number | null;
}

export interface RegisterLoad {
  /** Rows inserted or changed (a second load of the same register changes nothing). */
  changed: number;
  /** Rows not loaded, with the reason (an address the parser cannot resolve to one building, an unknown grid, a duplicate). */
  rejected: Array<{ sourceId: string; address: string; reason: string }>;
}

/**
 * Load (upsert by the register's id) a standard-address register into core.buildings. Each canonical address
 * is parsed by the same parser place linking uses, so the register's keys are the keys addresses are looked
 * up by; rows that do not resolve to one building of a known grid are rejected with the reason, never
 * silently dropped. Places stored before the load are not re-resolved (load the register with the grids,
 * before records are synced).
 */
export async function loadAddressRegister(client: PoolClient | Queryable, buildings: RegisterBuilding[], chunkSize = 10_000): Promise<RegisterLoad> {
  const rejected: RegisterLoad['rejected'] = [];
  const num = (v: number | null | undefined) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  // Rows the hub already holds as delivered are skipped without parsing (a start-up reload of an unchanged
  // register is one read).
  const held = new Map<string, string>();
  const stamp = (sourceAddress: string, grid: string, compound: string | null, lon: number | null, lat: number | null) =>
    `${sourceAddress}\u0000${grid}\u0000${compound ?? ''}\u0000${lon ?? ''}\u0000${lat ?? ''}`;
  const existing = await client.query<{ source_id: string; source_address: string | null; grid_code: string; compound: string | null; lon: number | null; lat: number | null }>(
    'SELECT source_id, source_address, grid_code, compound, lon, lat FROM core.buildings');
  for (const e of existing.rows) held.set(e.source_id, stamp(e.source_address ?? '', e.grid_code, e.compound, e.lon, e.lat));
  const g = await loadGazetteer(client);
  const cols = { source_id: [] as string[], source_address: [] as string[], address: [] as string[], building_key: [] as string[], house_key: [] as Array<string | null>,
    compound_key: [] as Array<string | null>, compound: [] as Array<string | null>, district_code: [] as string[], community_code: [] as string[],
    grid_code: [] as string[], lon: [] as Array<number | null>, lat: [] as Array<number | null> };
  const seen = new Map<string, string>();
  for (const b of buildings) {
    const reject = (reason: string) => rejected.push({ sourceId: b.sourceId, address: b.address, reason });
    if (!b.sourceId) { reject('no register id'); continue; }
    const compound = b.compound ? cleanAddress(b.compound) : null;
    const lon = num(b.lon);
    const lat = num(b.lat);
    if (held.get(b.sourceId) === stamp(b.address, b.gridCode, compound, lon, lat)) continue;
    const p = parseAddress(b.address, g);
    if (p.status !== 'parsed' || !p.buildingKey) { reject(`address does not resolve to a building: ${p.reason ?? 'no building key'}`); continue; }
    if (p.group === undefined && !p.building) { reject('urban address without a building (栋) number'); continue; }
    const community = g.communities.get(b.gridCode.slice(0, 12));
    if (!community || !community.grids.some((x) => x.code === b.gridCode)) { reject(`grid ${b.gridCode} is not in core.grids`); continue; }
    if (p.communityCode && p.communityCode !== community.code) { reject(`address is in community ${p.communityCode}, its grid ${b.gridCode} is not`); continue; }
    const other = seen.get(p.buildingKey);
    if (other) { reject(`same building as register row ${other}`); continue; }
    seen.set(p.buildingKey, b.sourceId);
    cols.source_id.push(b.sourceId); cols.source_address.push(b.address); cols.address.push(p.standard); cols.building_key.push(p.buildingKey);
    cols.house_key.push(p.houseKey); cols.compound_key.push(compound && p.building ? `${community.code}|${compound}|${p.building}` : null);
    cols.compound.push(compound); cols.district_code.push(p.districtCode!); cols.community_code.push(community.code); cols.grid_code.push(b.gridCode);
    cols.lon.push(lon); cols.lat.push(lat);
  }
  let changed = 0;
  for (let i = 0; i < cols.source_id.length; i += chunkSize) {
    const slice = <T>(a: T[]) => a.slice(i, i + chunkSize);
    const keys = slice(cols.building_key);
    const ids = slice(cols.source_id);
    // A building key held by another register id: reported, not overwritten.
    const taken = await client.query<{ source_id: string; building_key: string }>(
      'SELECT source_id, building_key FROM core.buildings WHERE building_key = ANY($1::text[])', [keys]);
    const owner = new Map(taken.rows.map((t) => [t.building_key, t.source_id]));
    const keep = keys.map((k, j) => {
      const o = owner.get(k);
      if (o && o !== ids[j]) { rejected.push({ sourceId: ids[j]!, address: slice(cols.source_address)[j]!, reason: `same building as register row ${o}` }); return false; }
      return true;
    });
    const pick = <T>(a: T[]) => slice(a).filter((_, j) => keep[j]);
    const res = await client.query(
      `INSERT INTO core.buildings (source_id, source_address, address, building_key, house_key, compound_key, compound, district_code,
          community_code, grid_code, lon, lat)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
          $10::text[], $11::float8[], $12::float8[])
       ON CONFLICT (source_id) DO UPDATE SET
         source_address = EXCLUDED.source_address, address = EXCLUDED.address, building_key = EXCLUDED.building_key,
         house_key = EXCLUDED.house_key, compound_key = EXCLUDED.compound_key, compound = EXCLUDED.compound,
         district_code = EXCLUDED.district_code, community_code = EXCLUDED.community_code, grid_code = EXCLUDED.grid_code,
         lon = EXCLUDED.lon, lat = EXCLUDED.lat, updated_at = now()`,
      [pick(cols.source_id), pick(cols.source_address), pick(cols.address), pick(cols.building_key), pick(cols.house_key), pick(cols.compound_key),
        pick(cols.compound), pick(cols.district_code), pick(cols.community_code), pick(cols.grid_code), pick(cols.lon), pick(cols.lat)]);
    changed += res.rowCount ?? 0;
  }
  // Fresh statistics: every batch looks buildings up by key, and a plan made for an "empty" table scans it.
  if (changed) await client.query('ANALYZE core.buildings');
  return { changed, rejected };
}

/**
 * A person's residence (core.persons.residence_place_id) from the addresses their records give (住址, 户籍地址,
 * 现住址 …): for persons who have none yet, the place of the first address of the batch that names them
 * (linked like any place, so it resolves to its register building). Returns the persons updated.
 * A person without a grid gets the residence's grid: persons belong to the grid they live in, and grid_code is
 * what scopes them (a grid worker sees the residents of their grids). A grid already set is kept.
 */
export async function setResidences(client: PoolClient, pairs: Array<{ personId: string; address: string | null | undefined }>): Promise<number> {
  const first = new Map<string, string>();
  for (const p of pairs) if (p.address && String(p.address).trim() && !first.has(p.personId)) first.set(p.personId, String(p.address));
  if (!first.size) return 0;
  const open = await client.query<{ id: string }>(
    'SELECT id FROM core.persons WHERE id = ANY($1::uuid[]) AND residence_place_id IS NULL', [[...first.keys()]]);
  if (!open.rows.length) return 0;
  const places = await linkPlaces(client, open.rows.map((r) => ({ ref: r.id, address: first.get(r.id)! })));
  // In person-id order: concurrent batches lock persons in one order.
  const set = places.filter((p) => p.placeId && p.status !== 'unparsed').sort((a, b) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0));
  if (!set.length) return 0;
  const res = await client.query(
    `UPDATE core.persons p SET residence_place_id = x.place_id, grid_code = coalesce(p.grid_code, pl.grid_code), updated_at = now()
       FROM unnest($1::uuid[], $2::uuid[]) AS x(person_id, place_id)
       JOIN core.places pl ON pl.id = x.place_id
      WHERE p.id = x.person_id AND p.residence_place_id IS NULL`,
    [set.map((p) => p.ref), set.map((p) => p.placeId)]);
  return res.rowCount ?? 0;
}
