import { setImmediate as nextTurn } from 'node:timers/promises';
import type { PoolClient } from '../platform/db';
import { HubError } from '../platform/errors';
import { uuidv7 } from '../platform/uuidv7';
import { connectAtOnce, inTransactionBeside, type BesidePool } from './beside';
import { copyRows, type CopyText } from './copy-text';
import { knownKeyPairs } from './known-key-pairs';
import { openKeySet } from './open-keys';
import { normaliseThread } from './normalise-thread';
import { KEYS_BUILT, KEYS_GENERATION_SQL, NIL_UUID } from './key-generation';
import { keyList, SEPARATOR } from './key-list';
import { LINKING_LOCK_SQL } from './linking-lock';
import { insertMissingKeysSql, recordKeysSql, type PersonFeatures } from './person-features';
import { normaliseRecent, sourceAt, sourceList, storedKeys, type Normalised } from './person-normalise';
import { rememberPrepared, takePrepared } from './prepared-mentions';
import { AMBIGUITY_MARGIN, CONFLICT, LINK_THRESHOLD, REVIEW_THRESHOLD, scorePair, type Evidence } from './person-score';
import { absorbPerson } from './review';
import type { PersonLink, PersonMention } from './types';

/**
 * Person linking for one batch of mentions, inside the caller's transaction, in a fixed number of SQL
 * statements whatever the batch size:
 *  1. links that already exist for these records are returned as they are (a replayed batch changes nothing);
 *  2. under the linking lock (linking-lock.ts: so concurrent batches cannot both create the same person),
 *     mentions with a valid ID number join the person holding it;
 *  3. the others are scored against the persons their blocking keys find (and those made earlier in the same
 *     batch): above the link threshold they join the best one, in the grey band they get a new person and a
 *     review-queue entry, below it a new person;
 *  4. new persons, ID numbers adopted by persons that had none, the links and review entries are written in
 *     bulk.
 */
/** The characters the batch's key lists are joined with (see the existing-link check): refused in keys. */
const SEPARATORS = /[\u001e\u001f]/;

/** The key of a mention within its record (e.g. 'party:0'); '' when the record is one person. */
export function mentionKeyOf(m: PersonMention): string {
  if (m.mentionKey != null) return m.mentionKey;
  const hash = m.ref.indexOf('#');
  return hash >= 0 ? m.ref.slice(hash + 1) : '';
}

interface Item {
  m: PersonMention;
  mentionKey: string;
  f: PersonFeatures;
  /** storedKeys(f) and lookupKeys(f), computed once. */
  stored: string[];
  lookup: string[];
  link?: PersonLink;
}

interface CandidateRecord extends PersonFeatures {
  personId: string;
  /** The person lacks a residence (as read with the candidates). */
  openRes?: boolean;
  /** CandidateIndex's stamp of the last look-up that met this record. */
  seen?: number;
  /** For a person without a number: how many persons with one bear the record's name. */
  nameCount?: number;
}

interface ReviewEntry {
  item: Item;
  personId: string;
  candidateId: string;
  score: number;
  evidence: Evidence;
}

export interface PersonLinkOptions {
  /** Resolves an address to the norm key of its place (the place parser); null when it does not parse. */
  placeKeyOf?: (address: string) => string | null;
  /**
   * Links the given addresses as places (place linking) and returns, per address that resolved to a place, the
   * place and its grid: a person without a residence gets the place of the first address the batch gives for
   * them. New persons are written with it (no UPDATE of the row just inserted); known persons without one are
   * updated. Without it, residences are left alone.
   */
  residencesOf?: (addresses: string[]) => Promise<Map<string, Residence>>;
  /**
   * Connections beside the batch's own (a pool, linking/beside.ts): the key tables, derived data like an index, are
   * then written on one of them in a transaction of their own, in parallel with the batch's writes
   * (writeKeysAside). Without it, or when no connection is free at once, the keys are written in the batch's
   * transaction.
   */
  besidePool?: BesidePool;
  /**
   * Work of the same batch on the same connection whose savepoints the writes must not nest with (linkBatch's place
   * linking, when it runs on the batch's connection): the writes' savepoints are made only once it has settled.
   * Statements on one connection run one after another anyway, so waiting costs a round trip, not overlap.
   */
  writesAfter?: PromiseLike<unknown>;
}

export interface Residence { placeId: string; gridCode: string | null }

/**
 * Time spent in linkPersons by this process (wall clock, statements included): what bench:linking reports as
 * person-linking throughput, apart from place linking.
 */
export const personLinkingStats = { batches: 0, mentions: 0, seconds: 0, phases: {} as Record<string, number>, knownKeyPairsSkipped: 0 };

/**
 * Wall-clock time per phase of a batch, added to personLinkingStats.phases (bench:linking prints them): each call
 * charges the time since the previous one to `phase`. Approximate when batches of one process interleave.
 */
let lapAt = 0n;
function lap(phase: string): void {
  const now = process.hrtime.bigint();
  if (lapAt) personLinkingStats.phases[phase] = (personLinkingStats.phases[phase] ?? 0) + Number(now - lapAt) / 1e9;
  lapAt = now;
}

/**
 * Whether the next batch sends its reads with the existing-link check (linkPersonsTimed): yes while the last batch
 * of this process found at most this share of its mentions linked already.
 */
let readsAhead = true;
const READS_AHEAD_MAX_KNOWN = 0.2;

export async function linkPersons(client: PoolClient, mentions: PersonMention[], options: PersonLinkOptions = {}): Promise<PersonLink[]> {
  if (!mentions.length) return [];
  const started = process.hrtime.bigint();
  lapAt = started;
  try {
    return await linkPersonsTimed(client, mentions, options);
  } finally {
    personLinkingStats.batches++;
    personLinkingStats.mentions += mentions.length;
    personLinkingStats.seconds += Number(process.hrtime.bigint() - started) / 1e9;
    lap('other');
    lapAt = 0n;
  }
}

async function linkPersonsTimed(client: PoolClient, mentions: PersonMention[], options: PersonLinkOptions): Promise<PersonLink[]> {
  const placeKeyOf = options.placeKeyOf ?? (() => null);
  mentions.forEach((m, i) => {
    if (!m.ref || !m.sourceTable || !m.recordId) {
      throw new HubError('TL_ERR_BAD_USER_INPUT', `person mention ${i} needs ref, sourceTable and recordId`, { index: i, ref: m.ref });
    }
    if (SEPARATORS.test(m.sourceTable) || SEPARATORS.test(m.recordId) || (m.mentionKey != null && SEPARATORS.test(m.mentionKey))) {
      throw new HubError('TL_ERR_BAD_USER_INPUT', `person mention ${i}: sourceTable, recordId and mentionKey must not contain the control characters U+001E or U+001F`, { index: i, ref: m.ref });
    }
  });
  const mentionKeys = mentions.map(mentionKeyOf);

  // Under the linking lock (linking-lock.ts), so that concurrent batches cannot both create one new person, nor
  // both link one record: whatever the previous holder wrote is committed (and visible) when this one gets it.
  await client.query(`${LINKING_LOCK_SQL}; ${INDEX_PROBES_ON}`);
  try {
    // Sent first, read under the lock while the mentions are normalised: see linking/open-keys.ts. Only mentions that carry
    // an ID number can have a valid one (a batch of care visits without numbers reads nothing).
    let numbered = 0;
    for (const m of mentions) if (m.idNumber != null && String(m.idNumber).trim() !== '') numbered++;
    const openKeys = numbered ? openKeySet.read(client) : undefined;
    openKeys?.catch(() => undefined); // awaited by the candidate read; a failure is reported there
    // 1. Existing links: the same record always ends at the same person. The statement is sent now and runs in
    //    the database while this process normalises the mentions (pinyin, ID numbers, addresses). Records the
    //    batch itself created (newRecord: a new department row's id) have none and are not looked up.
    const lookedUp: string[] = [];
    mentions.forEach((m, i) => { if (!m.newRecord) lookedUp.push(`${m.sourceTable}\u001e${m.recordId}\u001e${mentionKeys[i]}`); });
    const existing = !lookedUp.length ? Promise.resolve({ rows: [] as ExistingRow[] }) : client.query<ExistingRow>(
      `SELECT pr.source_table AS st, pr.record_id AS rid, pr.mention_key AS mk,
              coalesce(p.merged_into, pr.person_id) AS person_id, pr.method, pr.score, pr.evidence,
              -- Whether the person still lacks a residence (null: merged, not known here).
              CASE WHEN p.merged_into IS NULL THEN p.residence_place_id IS NULL END AS open_res
         -- The (source table, record, mention key) triples as one text: U+001F between mentions, U+001E within
         -- one (neither occurs in a table name, a UUID or a mention key). Thousands of array elements cost more
         -- to quote one by one than the look-up itself; the separator a sub-select, so that the text is split when
         -- the statement runs, not while it is planned (linking/key-list.ts).
         FROM (SELECT split_part(t, chr(30), 1) AS st, split_part(t, chr(30), 2)::uuid AS rid, split_part(t, chr(30), 3) AS mk
                 FROM unnest(string_to_array($1, ${SEPARATOR})) AS t) AS k
         -- LATERAL: one primary-key probe per mention, whatever the planner thinks of the table's size.
         CROSS JOIN LATERAL (SELECT * FROM core.person_records r
                              WHERE r.source_table = k.st AND r.record_id = k.rid AND r.mention_key = k.mk) pr
         JOIN core.persons p ON p.id = pr.person_id`,
      [lookedUp.join('\u001f')]);
    existing.catch(() => undefined); // awaited below; a failure is reported there
    const norms = await normaliseBatch(mentions, mentions.map((m) => (m.address ? placeKeyOf(m.address) : null)));
    const items: Item[] = mentions.map((m, i) => {
      const { f, stored, lookup } = norms[i]!;
      return { m, mentionKey: mentionKeys[i]!, f, stored, lookup };
    });
    lap('normalise');
    // 2.–3. The reads, sent right behind the existing-link check for every mention when the batches before were
    //    mostly new records (a first load, a stream of new cases): the database runs them back to back instead of
    //    waiting for this process to learn which mentions are linked already. They are read-only and only ever a
    //    superset of what the unlinked mentions need (linkPending), so no decision changes; a batch of mostly
    //    known records (updates, a replay) would read in vain, so after one the reads wait for the check again.
    const reads = readsAhead ? sendReads(client, items, openKeys) : undefined;
    const rows = (await existing).rows;
    lap('existing links (wait)');
    readsAhead = rows.length <= mentions.length * READS_AHEAD_MAX_KNOWN;
    return await linkLocked(client, items, rows, options, reads, openKeys);
  } finally {
    await client.query(INDEX_PROBES_OFF).catch(() => undefined);
  }
}

/** At least this many mentions to normalise go to the linking thread; fewer are done here (tests, small batches). */
const THREAD_MIN = 256;

/** Whether this many mentions would be normalised on the linking thread (started now if it is not yet). */
export function normalisesOnThread(count: number): boolean {
  return count >= THREAD_MIN && normaliseThread.start();
}

/**
 * The batch's mentions normalised, in order: those prepared ahead as they were (linking/prepared-mentions.ts), the
 * rest on the linking thread (linking/normalise-thread.ts) when they are many, else here. The linking thread's
 * answers are the same as this thread's; should it fail, the mentions are normalised here.
 */
async function normaliseBatch(mentions: readonly PersonMention[], placeKeys: ReadonlyArray<string | null>): Promise<Normalised[]> {
  const out = new Array<Normalised>(mentions.length);
  const rest: number[] = [];
  for (let i = 0; i < mentions.length; i++) {
    const p = takePrepared(mentions[i]!, i, placeKeys[i]!);
    if (p) out[i] = p; else rest.push(i);
  }
  if (!rest.length) return out;
  const sources = sourceList(mentions, placeKeys, rest);
  const viaThread = normalisesOnThread(rest.length) ? normaliseThread.normalise(sources) : null;
  const done = viaThread ? await viaThread.catch(() => null) : null;
  rest.forEach((i, j) => { out[i] = done ? done[j]! : normaliseRecent(sourceAt(sources, j)); });
  return out;
}

/**
 * Normalises a coming batch's mentions and keeps the results for its linkPersons (linking/prepared-mentions.ts): on
 * the linking thread when they are many, else here in slices with a turn of the event loop between them (the
 * current batch's replies are not held up). See prepareMentions in linking/index.ts.
 */
export async function prepareBatch(mentions: readonly PersonMention[], placeKeys: ReadonlyArray<string | null>): Promise<void> {
  const sources = sourceList(mentions, placeKeys);
  const viaThread = normalisesOnThread(mentions.length) ? normaliseThread.normalise(sources) : null;
  let results = viaThread ? await viaThread.catch(() => null) : null;
  if (!results) {
    results = [];
    for (let i = 0; i < mentions.length; i++) {
      results.push(normaliseRecent(sourceAt(sources, i)));
      if (i % PREPARE_SLICE === PREPARE_SLICE - 1) await nextTurn();
    }
  }
  rememberPrepared(mentions, sources, results);
}

/** Mentions normalised here between two turns of the event loop, when preparing ahead without the thread. */
const PREPARE_SLICE = 50;


interface ExistingRow { st: string; rid: string; mk: string; person_id: string; method: string; score: number | null; evidence: Record<string, unknown>; open_res: boolean | null }

/** The key tables' generation (linking/key-generation.ts), or null when they must be rebuilt. */
async function keysGeneration(client: PoolClient): Promise<string | null> {
  const r = await client.query<{ g: string | null }>(`SELECT ${KEYS_GENERATION_SQL} AS g`);
  return r.rows[0]?.g ?? null;
}

/**
 * The key tables are unlogged (derived from core.person_records, like an index): a crash empties them, sentinel
 * and all. Then they are rebuilt from the link store before anything is linked; the caller holds the lock.
 */
async function ensureKeys(client: PoolClient): Promise<void> {
  if (await keysGeneration(client) !== null) return;
  await client.query(insertMissingKeysSql('core.person_keys',
    `SELECT k, pr.person_id FROM core.person_records pr, ${recordKeysSql('pr')} AS k`));
  await client.query(insertMissingKeysSql('core.person_open_keys',
    `SELECT k, pr.person_id FROM core.person_records pr
       JOIN core.persons p ON p.id = pr.person_id AND p.id_number IS NULL AND p.merged_into IS NULL,
       ${recordKeysSql('pr')} AS k`));
  await client.query(insertMissingKeysSql('core.person_keys', 'SELECT $1::text, $2::uuid'), [KEYS_BUILT, NIL_UUID]);
}

/**
 * Every read of a batch is a set of index probes (keys, ID numbers, records of a few hundred persons). The
 * planner's statistics lag behind tables this very run fills (core.person_keys is "empty" to it while it holds
 * 400,000 rows), and it then hashes or sorts whole tables for each batch: quadratic over a run. For the
 * duration of the call (SET LOCAL, set back right after) only index probes are allowed, and no parallel workers.
 * The lists the reads probe indexes with go as keyList parameters (linking/key-list.ts): to the planner, one value.
 */
export const INDEX_PROBES_ON = `SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_hashjoin = off;
  SET LOCAL enable_mergejoin = off; SET LOCAL enable_material = off; SET LOCAL max_parallel_workers_per_gather = 0; SET LOCAL jit = off`;
const INDEX_PROBES_OFF = `SET LOCAL enable_seqscan TO DEFAULT; SET LOCAL enable_bitmapscan TO DEFAULT; SET LOCAL enable_hashjoin TO DEFAULT;
  SET LOCAL enable_mergejoin TO DEFAULT; SET LOCAL enable_material TO DEFAULT; SET LOCAL max_parallel_workers_per_gather TO DEFAULT;
  SET LOCAL jit TO DEFAULT`;

async function linkLocked(client: PoolClient, items: Item[], existing: ExistingRow[], options: PersonLinkOptions,
  reads?: Reads, openKeys?: OpenKeys): Promise<PersonLink[]> {
  const resolve = options.residencesOf;
  const known = new Map(existing.map((r) => [`${r.st}\u0000${r.rid}\u0000${r.mk}`, r]));
  const pending: Item[] = [];
  const firstOfKey = new Map<string, Item>();
  const duplicates: Array<[Item, Item]> = [];
  const res: ResidenceContext = { resolve, items, duplicates, open: new Map() };
  for (const item of items) {
    const key = `${item.m.sourceTable}\u0000${item.m.recordId}\u0000${item.mentionKey}`;
    const row = known.get(key);
    if (row) {
      item.link = { ref: item.m.ref, personId: row.person_id, method: row.method as PersonLink['method'], score: row.score ?? 1, evidence: row.evidence, created: false };
      if (row.open_res !== null) res.open.set(row.person_id, row.open_res);
      continue;
    }
    const first = firstOfKey.get(key);
    if (first) { duplicates.push([item, first]); continue; }
    firstOfKey.set(key, item);
    pending.push(item);
  }

  if (pending.length) {
    await linkPending(client, pending, res, options, reads, openKeys);
  } else {
    if (reads) await settleReads(reads);
    await updateResidences(client, await planResidences(client, res, new Set()), new Set());
  }
  // Again after the writes: a new person's COPY may have fallen back to another writer's person (insertPersons).
  for (const [dup, first] of duplicates) dup.link = { ...first.link!, ref: dup.m.ref, created: false };
  return items.map((i) => i.link!);
}

/**
 * Residences of the batch's persons (docs/linking.md, Places → Residence): a person without one gets the place
 * of the first address the batch gives for them. `open` holds what the batch's reads already told about each
 * person (lacks a residence or not); persons it does not cover are asked.
 */
interface ResidenceContext {
  resolve?: PersonLinkOptions['residencesOf'];
  items: Item[];
  duplicates: Array<[Item, Item]>;
  open: Map<string, boolean>;
}

async function planResidences(client: PoolClient, ctx: ResidenceContext, created: Set<string>): Promise<Map<string, Residence>> {
  for (const [dup, first] of ctx.duplicates) dup.link = { ...first.link!, ref: dup.m.ref, created: false };
  const out = new Map<string, Residence>();
  if (!ctx.resolve) return out;
  const first = new Map<string, string>();
  for (const item of ctx.items) {
    const a = item.m.address;
    if (a && String(a).trim() && !first.has(item.link!.personId)) first.set(item.link!.personId, String(a));
  }
  if (!first.size) return out;
  const unknown = [...first.keys()].filter((id) => !created.has(id) && !ctx.open.has(id));
  if (unknown.length) {
    const r = await client.query<{ id: string }>('SELECT id FROM core.persons WHERE id = ANY($1::uuid[]) AND residence_place_id IS NULL', [unknown]);
    for (const id of unknown) ctx.open.set(id, false);
    for (const row of r.rows) ctx.open.set(row.id, true);
  }
  const need = [...first].filter(([id]) => created.has(id) || ctx.open.get(id) === true);
  if (!need.length) return out;
  const places = await ctx.resolve([...new Set(need.map(([, a]) => a))]);
  for (const [id, a] of need) { const p = places.get(a); if (p) out.set(id, p); }
  return out;
}

/** Known persons without a residence get theirs (and their grid when they have none); new ones were written with it. */
function residenceUpdate(residences: Map<string, Residence>, inserted: Set<string>): { text: string; values: unknown[] } | null {
  // In person-id order: concurrent batches lock persons in one order.
  const set = [...residences].filter(([id]) => !inserted.has(id)).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  if (!set.length) return null;
  return {
    text: `UPDATE core.persons p SET residence_place_id = x.place_id, grid_code = coalesce(p.grid_code, x.grid_code), updated_at = now()
             FROM unnest($1::uuid[], $2::uuid[], $3::text[]) AS x(person_id, place_id, grid_code)
            WHERE p.id = x.person_id AND p.residence_place_id IS NULL`,
    values: [set.map(([id]) => id), set.map(([, r]) => r.placeId), set.map(([, r]) => r.gridCode)],
  };
}

async function updateResidences(client: PoolClient, residences: Map<string, Residence>, inserted: Set<string>): Promise<void> {
  const u = residenceUpdate(residences, inserted);
  if (u) await client.query(u.text, u.values);
}

/** The reads of a batch (linkPending), sent together: none needs another's answer. */
interface Reads {
  /** The key tables' generation (keysGeneration): null when they must be rebuilt. */
  keysBuilt: Promise<string | null>;
  numbered: Promise<{ rows: Array<{ id: string; id_number: string; open_res: boolean | null }> }> | null;
  candidates: Promise<CandidateRecord[]>;
  weakNames: Promise<Map<string, number>>;
}

/**
 * The reads, sent together and run back to back (none needs another's answer): 1. whether the key tables are
 * complete, 2. persons by valid ID number, 3. candidates by blocking keys, and 4. how many registered persons bear
 * the names of weak mentions.
 *
 * 3: a mention with a valid ID number is never scored against persons holding a number: the holder of its own
 * number is its person (2), any other number is a different person (CONFLICT). So it looks only among persons
 * without a number: one it may join and give the number to (a number no one holds yet), or one it recognises and
 * absorbs (step 5). Only mentions without a valid number look among all persons.
 *
 * For more items than will be linked (linkPersonsTimed sends them before it knows which are linked already), every
 * answer is a superset of the unlinked items' own: persons by more numbers, the candidates of more keys, counts of
 * more names. Deciding looks each item up by its own number, keys and name only, so the answers it uses are the same.
 */
function sendReads(client: PoolClient, items: Item[], openKeys?: OpenKeys): Reads {
  const ids = keyList([...new Set(items.map((i) => i.f.idNumber).filter((v): v is string => !!v))]);
  const reads: Reads = {
    keysBuilt: keysGeneration(client),
    numbered: ids.value.length ? client.query<{ id: string; id_number: string; open_res: boolean | null }>(
      `SELECT coalesce(merged_into, id) AS id, id_number,
              CASE WHEN merged_into IS NULL THEN residence_place_id IS NULL END AS open_res
         FROM core.persons WHERE id_number = ANY(${ids.sql(1)})`,
      [ids.value]) : null,
    candidates: fetchCandidates(client, items, (i) => !!i.f.idNumber, openKeys),
    // A name-only mention (perhaps with its source group) may join a person only if no other person bears the
    // name: two 刘秀淑 served by one care station are two persons. Counted for weak mentions here, and for the
    // candidates of persons without a number (absorption) with the candidates.
    weakNames: nameCounts(client, items.filter((i) => weak(i.f) && i.f.name).map((i) => i.f.name!)),
  };
  // Awaited by linkPending, or by settleReads when no mention needs them; a failure is reported there.
  for (const p of [reads.keysBuilt, reads.numbered, reads.candidates, reads.weakNames]) p?.catch(() => undefined);
  return reads;
}

/** Reads sent ahead that no mention needed: awaited all the same (no statement of the batch left in flight). */
async function settleReads(reads: Reads): Promise<void> {
  await Promise.all([reads.keysBuilt, reads.numbered, reads.candidates, reads.weakNames]);
}

async function linkPending(client: PoolClient, pending: Item[], res: ResidenceContext, options: PersonLinkOptions, ahead?: Reads,
  openKeys?: OpenKeys): Promise<void> {
  let besidePool = options.besidePool;
  const reads = ahead ?? sendReads(client, pending, openKeys);
  const [generation, byNumber, fetched, counted] = await Promise.all([reads.keysBuilt, reads.numbered, reads.candidates, reads.weakNames]);
  const built = generation !== null;
  knownKeyPairs.seen(generation);
  let records = fetched;
  // Keys rebuilt by this transaction are not committed yet: keys written beside it could wait on them while it
  // waits on the writer, so this batch writes its keys itself.
  if (!built) besidePool = undefined;
  if (!built) {
    // Emptied by a crash (unlogged): rebuilt, and the candidates read again.
    await ensureKeys(client);
    // Without the open keys read before the rebuild (they were not there yet).
    records = await fetchCandidates(client, pending, (i) => !!i.f.idNumber);
  }
  lap('reads (ID numbers, candidates, names)');
  const byId = new Map<string, string>();
  for (const row of byNumber?.rows ?? []) {
    byId.set(row.id_number, row.id);
    if (row.open_res !== null) res.open.set(row.id, row.open_res);
  }
  // The full index holds only the keys mentions without a number look up (see CandidateIndex).
  const wanted = new Set<string>();
  for (const item of pending) if (!item.f.idNumber) for (const k of item.lookup) wanted.add(k);
  const index = new CandidateIndex(wanted);
  const personIdNumber = new Map<string, string>();
  for (const r of records) {
    if (r.idNumber) personIdNumber.set(r.personId, r.idNumber);
    if (r.openRes !== undefined) res.open.set(r.personId, r.openRes);
    if (r.nameCount !== undefined && r.name) counted.set(r.name, r.nameCount);
  }
  for (const r of records) index.add(r, storedKeys(r), !personIdNumber.has(r.personId));
  // More than one registered bearer (the counts stop at NAME_COUNT_CAP, which must stay above 1).
  const sharedName = (name: string | null) => !!name && (counted.get(name) ?? 0) > 1;

  const newPersons: Array<{ id: string; f: PersonFeatures; m: PersonMention }> = [];
  const adopted: Array<{ id: string; idNumber: string }> = [];
  const reviews: ReviewEntry[] = [];

  for (const item of pending) {
    const { f, m } = item;
    if (f.idNumber) {
      const holder = byId.get(f.idNumber);
      if (holder) {
        item.link = { ref: m.ref, personId: holder, method: 'id_number', score: 1, evidence: SAME_ID_NUMBER, created: false };
        personIdNumber.set(holder, f.idNumber);
        index.addMention(f, holder, item.stored, false);
        continue;
      }
    }
    const { best, second } = bestCandidates(index, f, item.lookup, personIdNumber);
    const ambiguous = (best && second && second.score >= LINK_THRESHOLD && best.score - second.score < AMBIGUITY_MARGIN)
      || (weak(f) && !household(f.groupKey) && sharedName(f.name));
    if (best && best.score >= LINK_THRESHOLD && !ambiguous) {
      item.link = { ref: m.ref, personId: best.personId, method: 'scored', score: best.score, evidence: { ...best.evidence }, created: false };
      if (f.idNumber) {
        // A person known so far without an ID number takes this one.
        adopted.push({ id: best.personId, idNumber: f.idNumber });
        personIdNumber.set(best.personId, f.idNumber);
        byId.set(f.idNumber, best.personId);
      }
    } else {
      const id = uuidv7();
      newPersons.push({ id, f, m });
      item.link = { ref: m.ref, personId: id, method: 'new', score: best ? best.score : 0, evidence: best ? { ...best.evidence, candidate: best.personId } : NO_EVIDENCE, created: true };
      if (f.idNumber) { byId.set(f.idNumber, id); personIdNumber.set(id, f.idNumber); }
      if (best && best.score >= REVIEW_THRESHOLD) {
        reviews.push({ item, personId: id, candidateId: best.personId, score: best.score, evidence: best.evidence });
      }
    }
    index.addMention(f, item.link.personId, item.stored, !personIdNumber.has(item.link.personId));
  }

  // 5. Records without an ID number may have arrived before any record carrying the number (an elderly-care
  //    visit written with a name only, before the register): their person is absorbed by the person holding
  //    the number when a mention with the number scores above the link threshold against them. Incremental
  //    linking thus ends where linking the records in any other order would.
  const absorbed = new Map<string, { target: string; score: number; evidence: Evidence }>();
  // Only persons still without a number can be absorbed: most batches hold none, and skip the loop.
  // Mentions normalised alike (one features object, one key list) and linked to the same person look the same:
  // once is enough (the persons a look-up meets and their scores would not change; absorbed ones stay absorbed).
  const looked = new Map<string[], string>();
  for (const item of index.hasOpen ? pending : []) {
    if (!item.f.idNumber) continue;
    const target = item.link!.personId;
    if (looked.get(item.lookup) === target) continue;
    looked.set(item.lookup, target);
    for (const r of index.find(item.lookup, true)) {
      if (r.personId === target || personIdNumber.has(r.personId) || absorbed.has(r.personId)) continue;
      // A second registered bearer of the name makes a name-only orphan anyone's.
      if (weak(r) && !household(r.groupKey) && sharedName(r.name)) continue;
      const s = scorePair(item.f, r);
      if (s.score >= LINK_THRESHOLD) absorbed.set(r.personId, { target, score: s.score, evidence: s.evidence });
    }
  }
  const fresh = new Set(newPersons.map((n) => n.id));
  const mergeLater: Array<[string, string]> = [];
  for (const [orphan, a] of absorbed) {
    if (!fresh.has(orphan)) { mergeLater.push([a.target, orphan]); continue; }
    for (const item of pending) {
      if (item.link!.personId === orphan) item.link = { ...item.link!, personId: a.target, method: 'scored', score: a.score, evidence: { ...a.evidence }, created: false };
    }
  }
  const keptNew = newPersons.filter((n) => !absorbed.has(n.id));
  const keptReviews = reviews.filter((r) => !absorbed.has(r.personId) && !absorbed.has(r.candidateId));

  // 4. Writes. Residences first: new persons are written with theirs.
  const keptIds = new Set(keptNew.map((n) => n.id));
  lap('decide (scoring, absorption)');
  const residences = await planResidences(client, res, keptIds);
  lap('residences (place linking)');
  const writes: BatchWrites = { keptNew, adopted, pending, personIdNumber, keptIds, residences, reviews: keptReviews, generation };
  // The fall-back (writeOneByOne) awaits between its savepoints and their release: nothing else of the batch may be
  // sent to this connection meanwhile, nor between writeQueued's failure and its rollback to the savepoint.
  if (options.writesAfter) await options.writesAfter;
  const done = await writeQueued(client, writes, besidePool);
  if (done !== true) await writeOneByOne(client, writes, done === 'keys-aside');
  lap('writes');
  // Only persons still without a number are absorbed (the candidates were read before this batch's writes).
  const stillOrphans = mergeLater.length
    ? new Set((await client.query<{ id: string }>('SELECT id FROM core.persons WHERE id = ANY($1::uuid[]) AND id_number IS NULL AND merged_into IS NULL',
      [mergeLater.map(([, o]) => o)])).rows.map((r) => r.id))
    : new Set<string>();
  for (const [target, orphan] of mergeLater) {
    if (!stillOrphans.has(orphan)) continue;
    await absorbPerson(client, target, orphan, 'linking', { action: 'merge', note: 'absorbed: a mention with a valid ID number recognised this person' });
  }
}

/** The keys of persons without an ID number (core.person_open_keys, a superset), or null: see linking/open-keys.ts. */
type OpenKeys = Promise<ReadonlySet<string> | null>;

async function fetchCandidates(client: PoolClient, items: Item[], settled: (item: Item) => boolean, openKeys?: OpenKeys): Promise<CandidateRecord[]> {
  // Mentions with a valid ID number look only for persons without a number (adoption, absorption): the
  // persons holding numbers are not candidates for them, which keeps this query small when most have one.
  // When the keys of those persons are at hand (openKeySet), only their keys that are there are looked up.
  const present = openKeys ? await openKeys : null;
  const open = new Set<string>();
  const orphansOnly = new Set<string>();
  // Mentions normalised alike share their key list (twenty care visits): each list is added once per kind.
  const added = new Set<string[]>();
  const addedSettled = new Set<string[]>();
  for (const item of items) {
    const isSettled = settled(item);
    const seen = isSettled ? addedSettled : added;
    if (seen.has(item.lookup)) continue;
    seen.add(item.lookup);
    if (!isSettled) for (const k of item.lookup) open.add(k);
    else if (present) for (const k of item.lookup) { if (present.has(k)) orphansOnly.add(k); }
    else for (const k of item.lookup) orphansOnly.add(k);
  }
  for (const k of open) orphansOnly.delete(k);
  if (!open.size && !orphansOnly.size) return [];
  const read = candidateRead([...open], [...orphansOnly]);
  const r = await client.query(read.text, read.values);
  return r.rows.map((row) => ({
    personId: row.person_id, name: row.name, pinyin: row.name_pinyin, sex: row.sex, birthDate: row.birth_date,
    phone: row.phone, idNumber: row.id_number, idNumberRaw: row.id_number_raw, placeKey: row.place_key, groupKey: row.group_key,
    openRes: row.open_res, ...(row.name_n === null ? {} : { nameCount: row.name_n }),
  }));
}

/**
 * The candidate read of fetchCandidates: the persons holding any of `openKeys` (mentions without a valid ID number
 * look them up among all persons) or any of `orphanKeys` among persons without a number (mentions with one), with
 * their records. Every key list goes as one parameter the planner sees as a single value (keyList's `sql` form):
 * no list is a constant it would estimate element by element.
 */
export function candidateRead(openKeys: readonly string[], orphanKeys: readonly string[]): { text: string; values: unknown[] } {
  const [open, orphans] = [keyList(openKeys), keyList(orphanKeys)];
  return {
    text: `WITH hit AS (
       -- A probe of the key's hash index per key (migration 0370: an index that = ANY(…) cannot use).
       SELECT k.person_id FROM unnest(${open.sql(1)}) AS q(key)
         JOIN core.person_keys k ON k.key = q.key COLLATE "C"
       UNION
       SELECT o.person_id FROM (
         -- Persons without a number are few; the mentions with a number that look among them, many (absorption).
         -- When there are more keys to look up than the table has rows to read (16 per 8 kB page), one pass over
         -- the table against a hash of the keys (the key as an expression: no index) costs less than a probe per
         -- key; otherwise the probes. Decided in the statement, on the table's size now (one-time filters). The
         -- pass looks each row up in a hashed subplan of the list: as a constant array (which the executor would
         -- hash as well) the list was estimated element by element by the planner, for both branches, in every
         -- batch: the largest share of the database's planning, and of its page faults (docs/linking.md round 18).
         -- IS TRUE keeps the IN a subplan: as a plain condition it would become a join, and the hash joins are off.
         SELECT k.person_id FROM core.person_open_keys k
          WHERE (SELECT pg_relation_size('core.person_open_keys')) >= $3 AND k.key = ANY(${orphans.sql(2)})
         UNION ALL
         SELECT k.person_id FROM core.person_open_keys k
          WHERE (SELECT pg_relation_size('core.person_open_keys')) < $3
            AND ((k.key || '') IN (SELECT unnest(${orphans.sql(2)}))) IS TRUE) o
       JOIN core.persons p ON p.id = o.person_id AND p.id_number IS NULL)
     -- A person's records, each distinct set of features once (twenty care visits written alike are one).
     , recs AS (
       SELECT DISTINCT pr.person_id, pr.name, pr.name_pinyin, pr.sex, pr.birth_date, pr.phone,
              coalesce(pr.id_number, p.id_number) AS id_number, pr.id_number_raw, pr.place_key, pr.group_key,
              p.residence_place_id IS NULL AS open_res, p.id_number IS NULL AS unnumbered
         FROM hit JOIN core.persons p ON p.id = hit.person_id AND p.merged_into IS NULL
         JOIN core.person_records pr ON pr.person_id = hit.person_id)
     -- For persons without a number: how many persons with one bear the name (see nameCounts).
     SELECT recs.*, CASE WHEN unnumbered AND name IS NOT NULL THEN ${cappedNameCount('recs.name')} END AS name_n
       FROM recs`,
    // Keys as one text each (keyList): tens of thousands of array elements cost more to quote one by one than the
    // look-up itself. $3: the open-keys table's size above which probing beats one pass (16 rows per 8 kB page).
    values: [open.value, orphans.value, orphanKeys.length * (8192 / 16)],
  };
}

/** A mention with a name and nothing personal besides (maybe a source group): too weak when the name is shared. */
function weak(f: PersonFeatures): boolean {
  return !f.idNumber && !f.idNumberRaw && !f.birthDate && !f.phone && !f.placeKey;
}

/**
 * A household group (`…household:<no>`): its few members practically never share a name, so the name within
 * it is enough. Any other group (a care station serving hundreds) is not: see sharedName.
 */
function household(groupKey: string | null): boolean {
  return !!groupKey && /(^|:)household:/.test(groupKey);
}

/**
 * Whether a name is shared is all deciding asks of these counts (sharedName: more than one bearer), so a count stops
 * at NAME_COUNT_CAP: with a million persons the commonest names have 400 bearers each, and counting them all was a
 * visit of every one of them per name and batch (docs/linking.md round 21).
 */
const NAME_COUNT_CAP = 2;

/** The persons with an ID number that bear `name` (an SQL expression), counted up to NAME_COUNT_CAP. */
function cappedNameCount(name: string): string {
  return `(SELECT count(*)::int FROM (SELECT FROM core.persons x
            WHERE x.name = ${name} AND x.id_number IS NOT NULL AND x.merged_into IS NULL LIMIT ${NAME_COUNT_CAP}) b)`;
}

/**
 * How many persons with an ID number bear each of these names (up to NAME_COUNT_CAP), by probes of
 * core.persons.name (the name a person was registered under; index persons_name).
 */
async function nameCounts(client: PoolClient, names: Iterable<string>): Promise<Map<string, number>> {
  const list = keyList([...new Set(names)]);
  const out = new Map<string, number>();
  if (!list.value.length) return out;
  const r = await client.query<{ name: string; n: number }>(
    `SELECT q.name, ${cappedNameCount('q.name')} AS n FROM unnest(${list.sql(1)}) AS q(name)`, [list.value]);
  for (const row of r.rows) if (row.n) out.set(row.name, row.n);
  return out;
}

/**
 * Candidate records in memory, found by the same blocking keys the SQL uses. Records of persons without an ID
 * number (when added) are also kept apart: a mention with a valid number is only ever scored against those (a
 * person holding another number is a different person, the holder of its own number was found by number), and
 * absorption looks only there.
 */
class CandidateIndex {
  private readonly byKey = new Map<string, CandidateRecord[]>();
  private readonly openByKey = new Map<string, CandidateRecord[]>();
  /** Stamp of the current look-up on the records it has met (no Set per look-up). */
  private generation = 0;

  /**
   * `wanted`: the keys any full look-up of the batch will use (those of its mentions without a valid number);
   * the full index holds only those. Most mentions of a batch carry a number and need no entry there.
   */
  constructor(private readonly wanted: ReadonlySet<string>) {}

  add(r: CandidateRecord, stored: string[], open: boolean): void {
    for (const k of stored) {
      if (this.wanted.has(k)) put(this.byKey, k, r);
      if (open) put(this.openByKey, k, r);
    }
  }

  /** A mention just linked to `personId`, as a record later mentions of the batch may meet (made only if one can). */
  addMention(f: PersonFeatures, personId: string, stored: string[], open: boolean): void {
    if (open || stored.some((k) => this.wanted.has(k))) this.add({ ...f, personId }, stored, open);
  }

  /** Whether any record of a person without a number was added. */
  get hasOpen(): boolean {
    return this.openByKey.size > 0;
  }

  /**
   * The records any of the look-up keys finds, each once, in the order the keys find them; `openOnly`: among
   * records of persons without a number (when added). A full look-up is for mentions without a valid number.
   */
  find(lookup: string[], openOnly: boolean): CandidateRecord[] {
    const map = openOnly ? this.openByKey : this.byKey;
    const gen = ++this.generation;
    const out: CandidateRecord[] = [];
    for (const k of lookup) {
      const list = map.get(k);
      if (list) for (const r of list) if (r.seen !== gen) { r.seen = gen; out.push(r); }
    }
    return out;
  }
}

function put(map: Map<string, CandidateRecord[]>, k: string, r: CandidateRecord): void {
  const list = map.get(k);
  if (list) list.push(r); else map.set(k, [r]);
}

interface Scored { personId: string; score: number; evidence: Evidence }

function bestCandidates(index: CandidateIndex, f: PersonFeatures, lookup: string[], personIdNumber: Map<string, string>): { best?: Scored; second?: Scored } {
  // A mention with a valid number meets only persons without one (see CandidateIndex).
  const found = index.find(lookup, !!f.idNumber);
  if (!found.length) return {};
  const perPerson = new Map<string, Scored>();
  for (const r of found) {
    // A person holding a different valid ID number is never the same person.
    const held = personIdNumber.get(r.personId);
    if (f.idNumber && held && held !== f.idNumber) continue;
    const { score, evidence } = scorePair(f, r);
    if (score <= CONFLICT) { perPerson.set(r.personId, { personId: r.personId, score: CONFLICT, evidence }); continue; }
    const cur = perPerson.get(r.personId);
    if (cur?.score === CONFLICT) continue;
    if (!cur || score > cur.score || (score === cur.score && r.personId < cur.personId)) perPerson.set(r.personId, { personId: r.personId, score, evidence });
  }
  let best: Scored | undefined;
  let second: Scored | undefined;
  for (const s of perPerson.values()) {
    if (!best || s.score > best.score || (s.score === best.score && s.personId < best.personId)) { second = best; best = s; }
    else if (!second || s.score > second.score) second = s;
  }
  return { best, second };
}

/**
 * New persons, COPYed into core.persons (no 6-array unnest): the ID numbers were looked up under the linking
 * lock, so only a writer outside linking can have taken one meanwhile. Then the COPY fails inside a savepoint
 * and the batch falls back to INSERT … ON CONFLICT (id_number) DO NOTHING, joining that writer's person.
 */
async function insertPersons(client: PoolClient, rows: Array<{ id: string; f: PersonFeatures; m: PersonMention }>, pending: Item[],
  residences: Map<string, Residence>): Promise<void> {
  await client.query('SAVEPOINT tl_persons');
  try {
    await copyRows(client, 'core.persons', PERSON_COLUMNS, rows, (r, out) => personRow(r, residences, out));
    await client.query('RELEASE SAVEPOINT tl_persons');
    return;
  } catch (err) {
    if ((err as { code?: string }).code !== '23505') throw err;
    await client.query('ROLLBACK TO SAVEPOINT tl_persons');
    await client.query('RELEASE SAVEPOINT tl_persons');
  }
  const r = await client.query<{ id: string }>(
    `INSERT INTO core.persons (id, id_number, name, sex, birth_date, phone, residence_place_id, grid_code)
     SELECT n.id, n.id_number, n.name, n.sex, n.birth_date, n.phone, n.residence_place_id, n.grid_code
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::date[], $6::text[], $7::uuid[], $8::text[])
            AS n(id, id_number, name, sex, birth_date, phone, residence_place_id, grid_code)
     ON CONFLICT (id_number) DO NOTHING
     RETURNING id`,
    [rows.map((r) => r.id), rows.map((r) => r.f.idNumber), rows.map((r) => r.f.name ?? r.m.name ?? '(unknown)'),
      rows.map((r) => r.f.sex), rows.map((r) => r.f.birthDate), rows.map((r) => r.f.phone),
      rows.map((r) => residences.get(r.id)?.placeId ?? null), rows.map((r) => residences.get(r.id)?.gridCode ?? null)]);
  if (r.rowCount === rows.length) return;
  // Someone outside the linking lock created a person with one of these ID numbers: join that person instead.
  const made = new Set(r.rows.map((row) => row.id));
  const lost = rows.filter((row) => !made.has(row.id));
  const found = await client.query<{ id: string; id_number: string }>(
    'SELECT coalesce(merged_into, id) AS id, id_number FROM core.persons WHERE id_number = ANY($1::text[])',
    [lost.map((l) => l.f.idNumber)]);
  const holder = new Map(found.rows.map((row) => [row.id_number, row.id]));
  const remap = new Map(lost.map((l) => [l.id, holder.get(l.f.idNumber!)!]));
  for (const item of pending) {
    const to = item.link && remap.get(item.link.personId);
    if (to) item.link = { ...item.link!, personId: to, method: 'id_number', score: 1, created: false };
  }
  // The residence meant for the lost person goes to its holder (when it has none: updateResidences checks).
  for (const [lostId, to] of remap) {
    const home = residences.get(lostId);
    if (home && !residences.has(to)) residences.set(to, home);
  }
}

const RECORD_COLUMNS = ['department', 'source_table', 'record_id', 'mention_key', 'person_id', 'connector_id', 'record_key',
  'method', 'score', 'evidence', 'name', 'name_pinyin', 'sex', 'birth_date', 'phone', 'id_number', 'id_number_raw', 'place_key',
  'group_key'] as const;

/**
 * The evidence of the two commonest links, shared (frozen) with its JSON made once: half the links of a large
 * batch are joins by ID number, most others new persons without a candidate.
 */
const SAME_ID_NUMBER: Record<string, unknown> = Object.freeze({ idNumber: 'same' });
const NO_EVIDENCE: Record<string, unknown> = Object.freeze({});
const SAME_ID_NUMBER_JSON = JSON.stringify(SAME_ID_NUMBER);

function evidenceJson(e: object): string {
  return e === SAME_ID_NUMBER ? SAME_ID_NUMBER_JSON : e === NO_EVIDENCE ? '{}' : JSON.stringify(e);
}

/** A link as a row of RECORD_COLUMNS. Plain: made here (UUIDs, method, score), or normalised to digits, dates, a-z. */
function recordRow(i: Item, out: CopyText): void {
  const link = i.link!;
  out.text(i.m.department).text(i.m.sourceTable).text(i.m.recordId).text(i.mentionKey).plain(link.personId)
    .text(i.m.connectorId || null).text(i.m.recordKey ?? '').plain(link.method).plain(link.score).text(evidenceJson(link.evidence))
    .text(i.f.name).plain(i.f.pinyin).plain(i.f.sex).plain(i.f.birthDate).plain(i.f.phone).plain(i.f.idNumber)
    .text(i.f.idNumberRaw).text(i.f.placeKey).text(i.f.groupKey);
}

/**
 * The links, COPYed straight into core.person_records: this runs under the linking lock after the existing-link
 * check, so no other linking batch can have written one of these records. Should a writer outside linking have
 * done so, the COPY fails inside a savepoint and the batch falls back to INSERT … ON CONFLICT (whoever wrote the
 * record first wins, and the mention reports that person).
 */
async function insertRecords(client: PoolClient, items: Item[]): Promise<void> {
  await client.query('SAVEPOINT tl_person_records');
  try {
    await copyRows(client, 'core.person_records', RECORD_COLUMNS, items, recordRow);
    await client.query('RELEASE SAVEPOINT tl_person_records');
  } catch (err) {
    if ((err as { code?: string }).code !== '23505') throw err;
    await client.query('ROLLBACK TO SAVEPOINT tl_person_records');
    await client.query('RELEASE SAVEPOINT tl_person_records');
    await upsertRecords(client, items);
  }
}

async function upsertRecords(client: PoolClient, items: Item[]): Promise<void> {
  const col = <T>(fn: (i: Item) => T) => items.map(fn);
  const r = await client.query<{ source_table: string; record_id: string; mention_key: string; person_id: string }>(
    `INSERT INTO core.person_records (department, source_table, record_id, mention_key, person_id, connector_id, record_key,
        method, score, evidence, name, name_pinyin, sex, birth_date, phone, id_number, id_number_raw, place_key,
        group_key)
     SELECT department, source_table, record_id, mention_key, person_id, connector_id, record_key, method, score, evidence,
            name, name_pinyin, sex, birth_date, phone, id_number, id_number_raw, place_key, group_key
       FROM unnest($1::text[], $2::text[], $3::uuid[], $4::text[], $5::uuid[], $6::uuid[], $7::text[], $8::text[],
                   $9::float8[], $10::jsonb[], $11::text[], $12::text[], $13::text[], $14::date[], $15::text[], $16::text[],
                   $17::text[], $18::text[], $19::text[])
         AS t(department, source_table, record_id, mention_key, person_id, connector_id, record_key, method, score, evidence,
              name, name_pinyin, sex, birth_date, phone, id_number, id_number_raw, place_key, group_key)
     ON CONFLICT (source_table, record_id, mention_key) DO UPDATE SET synced_at = now()
     RETURNING source_table, record_id, mention_key, person_id`,
    [col((i) => i.m.department), col((i) => i.m.sourceTable), col((i) => i.m.recordId), col((i) => i.mentionKey),
      col((i) => i.link!.personId), col((i) => i.m.connectorId || null), col((i) => i.m.recordKey ?? ''),
      col((i) => i.link!.method), col((i) => i.link!.score), col((i) => JSON.stringify(i.link!.evidence)),
      col((i) => i.f.name), col((i) => i.f.pinyin), col((i) => i.f.sex), col((i) => i.f.birthDate), col((i) => i.f.phone),
      col((i) => i.f.idNumber), col((i) => i.f.idNumberRaw), col((i) => i.f.placeKey), col((i) => i.f.groupKey)]);
  // A concurrent batch that linked the same record first wins: report where the record really is.
  const stored = new Map(r.rows.map((row) => [`${row.source_table}\u0000${row.record_id}\u0000${row.mention_key}`, row.person_id]));
  for (const item of items) {
    const p = stored.get(`${item.m.sourceTable}\u0000${item.m.recordId}\u0000${item.mentionKey}`);
    if (p && p !== item.link!.personId) item.link = { ...item.link!, personId: p, created: false };
  }
}

/**
 * The persons' blocking keys: each (key, person) once; most mentions of known persons add none. The keys of the
 * persons this batch created cannot be in the table yet (their ids are new), so they are COPYed straight into it
 * (`fresh`); the keys of persons that existed before (`known`) go through a session-local staging table (COPY,
 * then an INSERT of the pairs not there yet: the table has no unique index, migration 0370). The keys of persons without an ID number go to core.person_open_keys
 * as well (`freshOpen`, `knownOpen`): mentions their number settles look only there (absorption).
 * Not sorted: linking batches take the linking lock, so no two of them insert keys at the same time (sorting the
 * pairs of a batch cost more than a second per 100,000 mentions).
 */
interface KeyPlan { fresh: KeyPairs; freshOpen: KeyPairs; known: KeyPairs; knownOpen: KeyPairs }

/**
 * (key, person) pairs as two parallel lists, not a two-element array per pair: a batch plans about five pairs per
 * mention, and they live until the batch's COPYs are encoded, long enough for the garbage collector to copy each
 * array twice (a tenth of what survived a scavenge in bench:linking, docs/linking.md round 17).
 */
class KeyPairs {
  readonly keys: string[] = [];
  readonly persons: string[] = [];
  get length(): number { return this.keys.length; }
  push(key: string, personId: string): void { this.keys.push(key); this.persons.push(personId); }
  /** COPYs the pairs into `table` (key, person_id). */
  copyInto(client: PoolClient, table: string): Promise<void> {
    return copyRows(client, table, ['key', 'person_id'], this.keys, (k, out, i) => { out.text(k).plain(this.persons[i]); });
  }
}

function planKeys(items: Item[], personIdNumber: Map<string, string>, created: Set<string>): KeyPlan {
  const plan: KeyPlan = { fresh: new KeyPairs(), freshOpen: new KeyPairs(), known: new KeyPairs(), knownOpen: new KeyPairs() };
  // Per person the keys already planned: a few per person, compared in a short array (no string per pair).
  const planned = new Map<string, string[]>();
  for (const item of items) {
    const personId = item.link!.personId;
    let keys = planned.get(personId);
    if (!keys) planned.set(personId, (keys = []));
    const numbered = personIdNumber.has(personId);
    const isNew = created.has(personId);
    for (const k of item.stored) {
      if (keys.includes(k)) continue;
      keys.push(k);
      if (isNew) plan.fresh.push(k, personId);
      else if (knownKeyPairs.has(k, personId)) personLinkingStats.knownKeyPairsSkipped++;
      else plan.known.push(k, personId);
      if (!numbered) (isNew ? plan.freshOpen : plan.knownOpen).push(k, personId);
    }
  }
  return plan;
}

const KEY_STAGE_TABLE = 'CREATE TEMP TABLE IF NOT EXISTS tl_person_keys_stage (key text COLLATE "C", person_id uuid) ON COMMIT DELETE ROWS';
// Emptied by DELETE (a TRUNCATE makes a new file each time); ON COMMIT DELETE ROWS truncates it at commit.
const KEY_STAGE_MERGE = `${insertMissingKeysSql('core.person_keys', 'SELECT key, person_id FROM tl_person_keys_stage')};
  DELETE FROM tl_person_keys_stage`;
const OPEN_KEYS_INSERT = 'INSERT INTO core.person_open_keys (key, person_id) SELECT * FROM unnest($1::text[], $2::uuid[]) ON CONFLICT DO NOTHING';
const ADOPT_ID_NUMBERS = `UPDATE core.persons p SET id_number = a.id_number, updated_at = now()
  FROM unnest($1::uuid[], $2::text[]) AS a(id, id_number) WHERE p.id = a.id AND p.id_number IS NULL`;

async function insertKeys(client: PoolClient, items: Item[], personIdNumber: Map<string, string>, created: Set<string>): Promise<void> {
  const steps: Array<Promise<unknown>> = [];
  queueKeys(client, planKeys(items, personIdNumber, created), steps);
  await allInOrder(steps);
}

/**
 * Waits for statements queued on one connection and throws the first failure: the cause (the statements behind it
 * failed only because the transaction was aborted).
 */
async function allInOrder(steps: Array<Promise<unknown>>): Promise<void> {
  const settled = await Promise.allSettled(steps);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** What a batch writes once its links are decided. */
interface BatchWrites {
  keptNew: NewPerson[];
  adopted: Array<{ id: string; idNumber: string }>;
  pending: Item[];
  personIdNumber: Map<string, string>;
  /** The persons this batch creates. */
  keptIds: Set<string>;
  residences: Map<string, Residence>;
  reviews: ReviewEntry[];
  /** The key tables' generation the batch read (knownKeyPairs). */
  generation: string | null;
}

type NewPerson = { id: string; f: PersonFeatures; m: PersonMention };

const PERSON_COLUMNS = ['id', 'id_number', 'name', 'sex', 'birth_date', 'phone', 'residence_place_id', 'grid_code'] as const;

function personRow(r: NewPerson, residences: Map<string, Residence>, out: CopyText): void {
  const home = residences.get(r.id);
  out.plain(r.id).plain(r.f.idNumber).text(r.f.name ?? r.m.name ?? '(unknown)').plain(r.f.sex).plain(r.f.birthDate).plain(r.f.phone)
    .plain(home?.placeId).text(home?.gridCode);
}

/**
 * The batch's writes, all sent at once inside one savepoint: new persons, adopted numbers, links, keys,
 * residences and review entries queue on the connection one behind the other, and each COPY's text is made
 * while the statements before it run, so this process's encoding overlaps the database's work instead of
 * alternating with it. Nothing but another writer can make them fail: the ID numbers and records were looked up
 * under the linking lock, so only a writer outside linking can have taken one meanwhile (a unique violation).
 * Then everything is rolled back to the savepoint and `false` returned: writeOneByOne does it again step by
 * step, with the fall-backs that join that writer's person or record.
 * Statements sent to a busy connection wait in the pools' own queue (platform/statement-queue.ts).
 */
async function writeQueued(client: PoolClient, w: BatchWrites, besidePool?: BesidePool): Promise<true | 'keys-aside' | 'keys-here'> {
  const steps: Array<Promise<unknown>> = [];
  const send = (text: string, values?: unknown[]) => { steps.push(client.query(text, values)); };
  // The connection beside is taken before the savepoint: from SAVEPOINT to RELEASE every statement is queued in one
  // go, with no await between, so that no statement of place linking, which may share this connection (linkBatch),
  // lands inside. A SAVEPOINT tl_places queued inside would be destroyed by RELEASE tl_link_writes, and place
  // linking's own RELEASE would then fail ("savepoint does not exist"; seen once in batch-writer.test.ts).
  const keys = planKeys(w.pending, w.personIdNumber, w.keptIds);
  const side = besidePool && (keys.fresh.length || keys.freshOpen.length || keys.known.length || keys.knownOpen.length)
    ? await connectAtOnce(besidePool) : null;
  send('SAVEPOINT tl_link_writes');
  if (w.keptNew.length) steps.push(copyRows(client, 'core.persons', PERSON_COLUMNS, w.keptNew, (r, out) => personRow(r, w.residences, out)));
  if (w.adopted.length) send(ADOPT_ID_NUMBERS, [w.adopted.map((a) => a.id), w.adopted.map((a) => a.idNumber)]);
  steps.push(copyRows(client, 'core.person_records', RECORD_COLUMNS, w.pending, recordRow));
  // Written beside the batch (on their own connection, in parallel) or here, queued like the rest.
  const keysWritten = side ? writeKeysAside(side, keys) : null;
  keysWritten?.catch(() => undefined);
  if (!side) queueKeys(client, keys, steps);
  const residences = residenceUpdate(w.residences, w.keptIds);
  if (residences) send(residences.text, residences.values);
  if (w.reviews.length) send(REVIEWS_INSERT, reviewValues(w.reviews));
  send('RELEASE SAVEPOINT tl_link_writes');
  const settled = await Promise.allSettled(steps);
  const keysAside = keysWritten ? await keysWritten.then(() => true, () => false) : false;
  // Committed beside: the known persons' pairs are in the table from now on (knownKeyPairs).
  if (keysAside) knownKeyPairs.learn(w.generation, keys.known.keys, keys.known.persons);
  // The first failure is the cause; the statements behind it failed because the transaction was aborted.
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    if ((failed.reason as { code?: string }).code !== '23505') throw failed.reason;
    await client.query('ROLLBACK TO SAVEPOINT tl_link_writes; RELEASE SAVEPOINT tl_link_writes');
    // Keys written beside stay (keys of a person that does not exist are dropped by the candidate look-up);
    // writeOneByOne then writes every key that is not there yet (through the staging table).
    return side ? 'keys-aside' : 'keys-here';
  }
  // The keys could not be written beside (a lock wait over lock_timeout, a lost connection): written here, each
  // only where not there yet (part of them may have been committed beside).
  if (side && !keysAside) await insertKeys(client, w.pending, w.personIdNumber, new Set());
  return true;
}

/** The key writes queued on the batch's connection (their share of writeQueued). */
function queueKeys(client: PoolClient, keys: KeyPlan, steps: Array<Promise<unknown>>): void {
  if (keys.fresh.length) steps.push(keys.fresh.copyInto(client, 'core.person_keys'));
  if (keys.freshOpen.length) steps.push(keys.freshOpen.copyInto(client, 'core.person_open_keys'));
  if (keys.known.length) {
    steps.push(client.query(KEY_STAGE_TABLE));
    steps.push(keys.known.copyInto(client, 'tl_person_keys_stage'));
    steps.push(client.query(KEY_STAGE_MERGE));
  }
  if (keys.knownOpen.length) steps.push(client.query(OPEN_KEYS_INSERT, [keys.knownOpen.keys, keys.knownOpen.persons]));
}

/**
 * The key tables hold derived data (like an index: rebuilt from core.person_records after a crash), so a batch may
 * write its keys beside it (linking/beside.ts) while its own connection writes the persons and links: the database
 * then works on both at once. The caller waits for both before it commits, and holds the linking lock all along,
 * so no other linking batch reads keys in between. Should the batch roll back after the keys committed, they name
 * persons that do not exist, and the candidate look-up (a join with core.persons) drops them. The review queue's
 * merges and splits take the linking lock too (linking-lock.ts), so none of them holds a key row meanwhile; a lock
 * wait beside all the same (a writer outside linking) ends at the lock timeout, and the batch writes the keys
 * itself (writeQueued).
 */
async function writeKeysAside(side: PoolClient, keys: KeyPlan): Promise<void> {
  await inTransactionBeside(side, async (c) => {
    const steps: Array<Promise<unknown>> = [];
    // The staging merge probes the keys' index per pair, whatever the (lagging) statistics say: see INDEX_PROBES_ON.
    if (keys.known.length) steps.push(c.query(INDEX_PROBES_ON));
    queueKeys(c, keys, steps);
    await allInOrder(steps);
  });
}

/** The batch's writes one by one, each unique violation (another writer outside linking) joined where it fell. */
async function writeOneByOne(client: PoolClient, w: BatchWrites, keysAside: boolean): Promise<void> {
  if (w.keptNew.length) await insertPersons(client, w.keptNew, w.pending, w.residences);
  if (w.adopted.length) await client.query(ADOPT_ID_NUMBERS, [w.adopted.map((a) => a.id), w.adopted.map((a) => a.idNumber)]);
  await insertRecords(client, w.pending);
  // Persons this batch created (and kept: one whose ID number someone outside the lock took meanwhile was
  // remapped to that holder by insertPersons; no mention links to it any more).
  // Keys already written beside for these persons: every key through the staging table (pairs not there yet).
  await insertKeys(client, w.pending, w.personIdNumber, keysAside ? new Set() : w.keptIds);
  const residences = residenceUpdate(w.residences, w.keptIds);
  if (residences) await client.query(residences.text, residences.values);
  if (w.reviews.length) await client.query(REVIEWS_INSERT, reviewValues(w.reviews));
}

const REVIEWS_INSERT = `INSERT INTO core.link_reviews (source_table, record_id, mention_key, person_id, candidate_person_id, score, evidence)
  SELECT * FROM unnest($1::text[], $2::uuid[], $3::text[], $4::uuid[], $5::uuid[], $6::float8[], $7::jsonb[])
  ON CONFLICT DO NOTHING`;

function reviewValues(reviews: ReviewEntry[]): unknown[] {
  return [reviews.map((r) => r.item.m.sourceTable), reviews.map((r) => r.item.m.recordId), reviews.map((r) => r.item.mentionKey),
    reviews.map((r) => r.personId), reviews.map((r) => r.candidateId), reviews.map((r) => r.score),
    reviews.map((r) => JSON.stringify(r.evidence))];
}
