import { generateIdNumber } from '../../domain/id-number';
import { withTransaction } from '../../platform/db';
import { createTestDatabase, type TestDatabase } from '../../test/support/db';
import { linkPersons } from '../index';
import type { PersonLink, PersonMention } from '../types';
import { mentionsOf } from './fixtures';

/**
 * A batch's reads are sent with its existing-link check while the batches before it were mostly new records, and
 * after that check once a batch was mostly known records (linking/person-linking.ts, sendReads). Either way a
 * batch that mixes known and new records gets the same links: the known ones their stored person, the new ones
 * the person their number or their scored features point to. This file's process starts with reads sent ahead.
 */
const mention = mentionsOf('CIVIL_AFFAIRS', 'civil.care_services');

describe('person linking: reads sent with the existing-link check, or after it', () => {
  let db: TestDatabase;
  beforeAll(async () => { db = await createTestDatabase('linkreads'); });
  afterAll(async () => { await db.drop(); });

  const link = (ms: PersonMention[]) => withTransaction(db.pool, (c) => linkPersons(c, ms));
  const summary = (links: PersonLink[]) => links.map((l) => [l.method, l.created]);

  /**
   * Three persons (two with a number, one without), then a batch of their records again plus two new ones; with
   * `replayFirst`, their three records are replayed alone in between (all known), so the mixed batch reads after
   * its check.
   */
  async function mixedRound(tag: number, replayFirst: boolean): Promise<void> {
    const idA = generateIdNumber('510104', `198${tag}-04-12`, 10 + tag, 'F');
    const idB = generateIdNumber('510104', `197${tag}-09-30`, 20 + tag, 'M');
    const first = [
      mention({ name: `陈静${tag}`, idNumber: idA, phone: `1390000${tag}001` }),
      mention({ name: `刘伟${tag}`, idNumber: idB }),
      mention({ name: '何秀英', birthDate: `195${tag}-01-0${tag + 1}`, phone: `1380000${tag}002`, sex: 'F' }),
    ];
    const made = await link(first);
    expect(summary(made)).toEqual([['new', true], ['new', true], ['new', true]]);
    if (replayFirst) expect(summary(await link(first))).toEqual([['new', false], ['new', false], ['new', false]]);

    // Mostly known records (3 of 5): each known one gets its person back; a new record with a known number joins
    // its holder; a new record without a number is scored onto the person its name, birth date and phone match.
    const again = await link([
      ...first,
      mention({ name: `陈静${tag}`, idNumber: idA }),
      mention({ name: '何秀英', birthDate: `195${tag}-01-0${tag + 1}`, phone: `1380000${tag}002` }),
    ]);
    expect(again.slice(0, 3).map((l) => [l.personId, l.created])).toEqual(made.map((l) => [l.personId, false]));
    expect(again[3]).toMatchObject({ personId: made[0]!.personId, method: 'id_number', created: false });
    expect(again[4]).toMatchObject({ personId: made[2]!.personId, method: 'scored', created: false });
    const stored = await db.pool.query<{ n: number }>(
      'SELECT count(DISTINCT person_id)::int AS n FROM core.person_records WHERE record_id = ANY($1::uuid[])',
      [[...first.map((m) => m.recordId)]]);
    expect(stored.rows[0]!.n).toBe(3);
  }

  it('links a mixed batch right with the reads sent ahead (the batches before were new)', async () => {
    await mixedRound(1, false);
  });

  it('links a mixed batch right with the reads sent after the check (the batch before was all known)', async () => {
    await mixedRound(2, true);
  });

  it('skips the existing-link check for records the batch created (newRecord), and links them as any other', async () => {
    const id = generateIdNumber('510104', '1966-06-16', 31, 'F');
    const [holder] = await link([mention({ name: '邓丽', idNumber: id }), mention({ name: '罗敏', birthDate: '1971-07-17', phone: '13512345678', sex: 'F' })]);
    const fresh = [
      mention({ name: '邓丽', idNumber: id, newRecord: true }),
      mention({ name: '罗敏', birthDate: '1971-07-17', phone: '135 1234 5678', newRecord: true }),
      mention({ name: '谢军', birthDate: '1990-10-10', newRecord: true }),
    ];
    const statements: string[] = [];
    // The statements the batch sends, seen on its connection (the connection's own query, wrapped and restored).
    const links = await withTransaction(db.pool, async (c) => {
      const own = c as unknown as { query: (...args: unknown[]) => unknown };
      const query = own.query;
      own.query = (...args: unknown[]) => {
        const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string })?.text;
        if (text) statements.push(text);
        return query.apply(c, args);
      };
      try {
        return await linkPersons(c, fresh);
      } finally {
        own.query = query;
      }
    });
    expect(statements.some((t) => t.includes('pg_advisory_xact_lock'))).toBe(true);
    expect(links[0]).toMatchObject({ personId: holder!.personId, method: 'id_number', created: false });
    expect(links[1]).toMatchObject({ method: 'scored', created: false });
    expect(links[2]).toMatchObject({ method: 'new', created: true });
    expect(statements.some((t) => t.includes('FROM core.person_records r') && t.includes('LATERAL'))).toBe(false);
    // Their links are stored like any other: linked again without the mark, each record gets its person back.
    const again = await link(fresh.map(({ newRecord: _, ...m }) => m));
    expect(again.map((l) => [l.personId, l.created])).toEqual(links.map((l) => [l.personId, false]));
  });
});
