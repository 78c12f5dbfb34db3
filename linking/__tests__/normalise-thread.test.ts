import type { Worker } from 'node:worker_threads';
import { generateIdNumber } from '../../domain/id-number';
import { withTransaction } from '../../platform/db';
import { createTestDatabase, type TestDatabase } from '../../test/support/db';
import { linkPersons } from '../index';
import { NormaliseThread, normaliseThread } from '../normalise-thread';
import {
  decodeNormalised, encodeNormalised, normaliseFrom, normaliseRecent, SOURCE_WIDTH, type Normalised, type NormaliseSource, type SourceList,
} from '../person-normalise';
import type { PersonMention } from '../types';
import { mentionsOf } from './fixtures';

/**
 * The linking thread (linking/normalise-thread.ts): a real worker thread normalises person mentions exactly as
 * the batch would, the flat lists between the threads lose nothing, and when the thread is off or gone the batch
 * normalises its mentions itself and links the same.
 */

/** Mentions' sources of every kind the normalisation distinguishes, with repeats (care visits written alike). */
function sources(n: number): NormaliseSource[] {
  const out: NormaliseSource[] = [];
  const names = ['张伟', '张玮', 'ZHANG Wei', '欧阳 明华', '单雄信', '曾国藩', 'Ｌｉ　Ｎａ', '刘秀淑', '', null];
  for (let i = 0; i < n; i++) {
    const year = 1940 + (i % 60);
    const date = `${year}-0${1 + (i % 9)}-1${i % 10}`;
    const id = i % 7 === 0 ? generateIdNumber('510104', date, i % 900, i % 2 ? 'M' : 'F').slice(0, 17) + 'x' // lower-case x, maybe invalid
      : i % 7 === 1 ? `５１０１０４${date.replace(/-/g, '').slice(2)}${String(100 + (i % 800)).padStart(3, '0')}` // full-width, 15 digits
        : i % 7 === 2 ? null
          : i % 7 === 3 ? '51010419990231123X' // no such date
            : generateIdNumber('510104', date, i % 900, i % 2 ? 'M' : 'F');
    const s: NormaliseSource = [names[i % names.length], i % 3 === 0 ? 'M' : i % 3 === 1 ? 'F' : null, i % 5 ? date : null, id,
      i % 4 ? `+86 139${String(i).padStart(8, '0')}` : null, i % 6 ? `510104|东湖街道|永丰街|${i % 40}号|1栋` : null,
      i % 11 === 0 ? `CIVIL_AFFAIRS:household:${i % 17}` : null];
    out.push(s);
    if (i % 10 === 0) out.push([...s] as unknown as NormaliseSource); // the same values again, another tuple
  }
  return out;
}

/** Sources as the batch sends them: one flat list. */
const flat = (src: NormaliseSource[]): SourceList => src.flatMap((s) => [...s]);

const plain = (n: Normalised) => ({ f: n.f, stored: n.stored, lookup: n.lookup, sameLookup: n.lookup === n.stored });

describe('the linking thread', () => {
  it('sends normalised mentions as flat lists and gets back the same, repeats as references', () => {
    const src = sources(400);
    const list = src.map(normaliseRecent);
    const wire = encodeNormalised(list, flat(src));
    const back = decodeNormalised(wire, flat(src));
    expect(back.map(plain)).toEqual(list.map(plain));
    // Repeats come back as the same object, as normaliseRecent shares them.
    expect(back[1]).toBe(back[0]);
    expect(back.every((n) => n.from === null)).toBe(true);
    // A list that does not fit its sources is refused, not misread.
    expect(() => decodeNormalised(wire, flat(src.slice(1)))).toThrow(/left over/);
  });

  it('sends a feature equal to a value of its source as that value\'s place in the source, not as a copy', () => {
    const id = generateIdNumber('510104', '1985-04-04', 41, 'F');
    const src: NormaliseSource[] = [
      ['梁静', 'F', '1985-04-04', id, '13700004444', '510104|东湖街道|永丰街|9号|1栋', 'CIVIL_AFFAIRS:household:7'],
      // Not in normal form: the normalised values differ from the source's and go as text.
      [' 梁静 ', null, '1985-04-04T00:00:00', id.toLowerCase().replace(/^(\d{6})/, '$1 '), '+86 137 0000 4444', null, null],
    ];
    const list = src.map(normaliseFrom);
    // The first mention alone: none of its features goes as text but its pinyin (the keys are made of them).
    const first = encodeNormalised(list.slice(0, 1), flat(src.slice(0, 1)));
    expect(first.slice(0, 9)).toEqual([0, 'liang jing', 1, 2, 4, 3, null, 5, 6]);
    for (const v of ['梁静', 'F', '1985-04-04', id, '13700004444', '510104|东湖街道|永丰街|9号|1栋', 'CIVIL_AFFAIRS:household:7']) {
      expect(first.filter((x) => x === v)).toEqual([]);
    }
    const wire = encodeNormalised(list, flat(src));
    const back = decodeNormalised(wire, flat(src));
    expect(back.map(plain)).toEqual(list.map(plain));
    // The second mention's features: the normal forms, as text.
    expect(back[1]!.f).toMatchObject({ name: '梁静', birthDate: '1985-04-04', idNumber: id, phone: '13700004444', sex: 'F' });
    expect(SOURCE_WIDTH).toBe(src[0]!.length);
  });

  it('normalises on a worker thread exactly as here, in messages of at most 1,000 mentions', async () => {
    const thread = new NormaliseThread();
    try {
      expect(await thread.ready()).toBe(true);
      const src = sources(2500);
      const done = await thread.normalise(flat(src));
      expect(done).not.toBeNull();
      expect(done!.map(plain)).toEqual(src.map((s) => plain(normaliseFrom(s))));
      expect(thread.stats.messages).toBe(1 + Math.ceil(src.length / 1000)); // the first answer (ready) and the chunks
    } finally {
      await thread.stop();
    }
  });

  it('is not used when switched off, and fails over when its worker is gone', async () => {
    const before = process.env.LINKING_THREAD;
    process.env.LINKING_THREAD = 'off';
    try {
      const off = new NormaliseThread();
      expect(off.start()).toBe(false);
      expect(off.normalise(flat(sources(3)))).toBeNull();
    } finally {
      if (before === undefined) delete process.env.LINKING_THREAD; else process.env.LINKING_THREAD = before;
    }
    const thread = new NormaliseThread();
    expect(await thread.ready()).toBe(true);
    // The worker ends under it (as a crash would): answers due are refused, later calls say "normalise here".
    const due = thread.normalise(flat(sources(20000)));
    await (thread as unknown as { worker: Worker }).worker.terminate();
    await expect(due).rejects.toThrow(/linking thread/);
    expect(thread.failure).not.toBeNull();
    expect(thread.normalise(flat(sources(3)))).toBeNull();
  });

  describe('in a batch', () => {
    let db: TestDatabase;
    beforeAll(async () => { db = await createTestDatabase('linkthread'); });
    afterAll(async () => { await db.drop(); await normaliseThread.stop(); });

    const mention = mentionsOf('CIVIL_AFFAIRS', 'civil.subsidies');
    /** 400 mentions (more than the batch sends to the thread) of 100 persons, each written four ways; seq keeps ID numbers apart. */
    const batch = (tag: string, seq: number) => Array.from({ length: 100 }, (_, i): PersonMention[] => {
      const date = `19${50 + (i % 40)}-0${1 + (i % 9)}-2${i % 8}`;
      const name = `${tag}${'伟芳娜敏静丽强磊军洋'[i % 10]}${'一二三四五六七八九十'[Math.floor(i / 10)]}`;
      const id = generateIdNumber('510104', date, seq + i, i % 2 ? 'M' : 'F');
      return [
        mention({ name, idNumber: id }),
        mention({ name, birthDate: date, phone: `1370000${String(i).padStart(4, '0')}`, sourceTable: 'petition.petitions', department: 'PETITION' }),
        mention({ name, phone: `1370000${String(i).padStart(4, '0')}`, groupKey: `CIVIL_AFFAIRS:household:${tag}${i}` }),
        mention({ name: ` ${name} `, idNumber: id.toLowerCase(), sourceTable: 'police.household_registrations', department: 'POLICE' }),
      ];
    }).flat();
    // Persons by their position in the batch (the ids differ between two batches).
    const shape = (ls: Awaited<ReturnType<typeof linkPersons>>) => ls.map((l) => [ls.findIndex((x) => x.personId === l.personId), l.method, l.score, l.created]);

    it('links the same with the thread and without it', async () => {
      expect(await normaliseThread.ready()).toBe(true);
      const sent = normaliseThread.stats.mentions;
      const withThread = await withTransaction(db.pool, (c) => linkPersons(c, batch('钱', 100)));
      expect(normaliseThread.stats.mentions - sent).toBe(400);
      await normaliseThread.stop();
      const before = process.env.LINKING_THREAD;
      process.env.LINKING_THREAD = 'off';
      try {
        const without = await withTransaction(db.pool, (c) => linkPersons(c, batch('孙', 300)));
        expect(shape(without)).toEqual(shape(withThread));
        // The register record written with spaces and a lower-case x joins its person by the number, both ways.
        for (let i = 0; i < 100; i++) {
          expect(withThread[4 * i + 3]).toMatchObject({ personId: withThread[4 * i]!.personId, method: 'id_number' });
        }
      } finally {
        if (before === undefined) delete process.env.LINKING_THREAD; else process.env.LINKING_THREAD = before;
      }
    });
  });
});
