import { createTestDatabase, type TestDatabase } from '../../test/support/db';
import { copyRows, CopyText } from '../copy-text';

/**
 * The COPY text linking writes its links, persons and keys with (linking/copy-text.ts): whatever a department
 * wrote goes into PostgreSQL and comes back unchanged, however the rows fall across chunks.
 */
describe('COPY text', () => {
  let db: TestDatabase;
  beforeAll(async () => { db = await createTestDatabase('copytext'); });
  afterAll(async () => { await db.drop(); });

  const awkward = ['张伟', 'tab\there', 'line\nbreak', 'cr\rhere', 'back\\slash', '\\N', '', '𠮷野家 (a surrogate pair)', '  spaces  ',
    'ＦＵＬＬ　ｗｉｄｔｈ', 'a\\tb', '四川省成都市锦江区春熙路街道\t3号'];

  it('escapes backslash, tab, CR and LF; writes null as \\N and the empty text as empty', () => {
    const out = new CopyText();
    out.text('a\tb\\c\nd\re').text(null).text('').plain(12.5).plain(undefined);
    out.end();
    expect(Buffer.concat(out.take()).toString('utf8')).toBe('a\\tb\\\\c\\nd\\re\t\\N\t\t12.5\t\\N\n');
    expect(out.size).toBe(0);
    // Encoded as Buffer encodes UTF-8, short values (by the loop) and long ones (natively) alike: surrogate pairs,
    // and a lone surrogate as U+FFFD.
    for (const v of ['𠮷', 'a\uD800b', 'x\uDC00', '\uD83D', '𠮷野家'.repeat(9), `${'长'.repeat(30)}\uD800\t`]) {
      out.text(v);
      out.end();
      expect(Buffer.concat(out.take())).toEqual(Buffer.from(`${v.replace('\t', '\\t')}\n`, 'utf8'));
    }
    // Buffers far smaller than the text: every row spills into buffers of its own, nothing is cut or lost.
    const small = new CopyText(16);
    const rows = Array.from({ length: 2000 }, (_, i) => [`张伟${i}`.repeat(1 + (i % 9)), `a\tb${i}`]);
    for (const [a, b] of rows) { small.text(a).text(b); small.end(); }
    expect(Buffer.concat(small.take()).toString('utf8')).toBe(rows.map(([a, b]) => `${a}\t${b!.replace('\t', '\\t')}\n`).join(''));
  });

  it('round-trips every value through a real COPY, across chunk boundaries', async () => {
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('CREATE TEMP TABLE t (n int, a text, b text) ON COMMIT DROP');
      // 3,000 rows of multi-byte and escaped text: many 128 KiB chunks, rows and characters cut at their ends.
      const rows = Array.from({ length: 3000 }, (_, i) => ({ n: i, a: awkward[i % awkward.length]!.repeat(1 + (i % 40)), b: i % 7 ? `行${i}` : null }));
      await copyRows(client, 't', ['n', 'a', 'b'], rows, (r, out) => { out.plain(r.n).text(r.a).text(r.b); });
      const back = await client.query<{ n: number; a: string; b: string | null }>('SELECT n, a, b FROM t ORDER BY n');
      expect(back.rows).toEqual(rows);
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
  });

  it('reports a failing COPY (and the connection goes on)', async () => {
    const client = await db.pool.connect();
    try {
      await client.query('CREATE TEMP TABLE u (n int PRIMARY KEY)');
      await expect(copyRows(client, 'u', ['n'], [1, 2, 2], (n, out) => { out.plain(n); })).rejects.toMatchObject({ code: '23505' });
      await expect(copyRows(client, 'u', ['n'], [1], (n, out) => { out.plain(n); throw new Error('encoder failed'); })).rejects.toThrow();
      expect((await client.query('SELECT count(*)::int AS n FROM u')).rows[0].n).toBe(0);
    } finally {
      client.release();
    }
  });
});
