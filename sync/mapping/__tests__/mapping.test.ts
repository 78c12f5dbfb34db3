import { compileStream, parseDateTime, validateMapping, normaliseIdNumber, toHalfWidth, type Mapping } from '..';
import { idCheckDigit as checkDigit } from '../../../domain/id-number';

const columns = new Map(Object.entries({
  name: 'text', sex: 'text', birth_date: 'date', id_number: 'text', id_number_raw: 'text', status: 'text',
  reported_at: 'timestamp with time zone', member_count: 'integer', amount: 'numeric', parties: 'jsonb', address: 'text', kind: 'text',
}));

const validId = (first17: string) => first17 + checkDigit(first17);
const ID = validId('51010419850312123');

const mapping: Mapping = {
  version: 1,
  codeTables: { status: { '01': 'active', '02': 'closed' } },
  streams: {
    people: {
      target: 'civil.households',
      key: ['xh'],
      updatedAt: { from: 'gxsj', format: 'YYYY-MM-DD HH:mm:ss' },
      fields: {
        name: { from: 'xm', required: true },
        sex: { from: 'xb', codes: 'gbt2261_sex' },
        birth_date: { from: 'csrq', format: ['YYYYMMDD', 'YYYY/M/D', 'excel'] },
        id_number: { from: 'sfzh', idNumber: true },
        status: { from: 'zt', codes: 'status' },
        reported_at: { from: 'sj', format: ['YYYY-MM-DD HH:mm:ss', 'iso'] },
        member_count: { from: 'rs', min: 1 },
        amount: 'je',
        kind: { const: 'dibao' },
        address: { template: '{qx}{jd}{mph}' },
        parties: { from: 'dsr', items: { name: 'xm', idNumber: { from: 'sfzh', idNumber: true, invalidIdNumber: 'null' }, role: { from: 'js', codes: { '1': 'applicant', '2': 'respondent' } } } },
      },
    },
  },
};

describe('mapping', () => {
  const compiled = compileStream(mapping, 'people', columns);

  it('maps a clean record: codes, dates in several formats, full-width ID, template, constants, JSON items', () => {
    const r = compiled.map({
      xh: ' 0001 ', xm: '  张三\u3000', xb: '1', csrq: '1985/3/12', sfzh: toFullWidth(ID.slice(0, 17)) + ID[17]!.toLowerCase(),
      zt: '０１', sj: '2024-01-05 08:30:00', rs: '３', je: '1,234.50', qx: '武侯区', jd: '浆洗街街道', mph: '洗面桥街8号',
      dsr: JSON.stringify([{ xm: '李四', sfzh: 'bad', js: '2' }]), gxsj: '2024-01-05 09:00:00', extra: 'x',
    });
    expect(r).toEqual({
      ok: true, key: '0001', sourceUpdatedAt: '2024-01-05T01:00:00.000Z',
      values: {
        name: '张三', sex: 'M', birth_date: '1985-03-12', id_number: ID, id_number_raw: ID.slice(0, 17) + ID[17]!.toLowerCase(),
        status: 'active', reported_at: '2024-01-05T00:30:00.000Z', member_count: 3, amount: 1234.5, kind: 'dibao',
        address: '武侯区浆洗街街道洗面桥街8号', parties: [{ name: '李四', idNumber: null, idNumberRaw: 'bad', role: 'respondent' }],
      },
    });
    expect(compiled.sourceColumns.has('extra')).toBe(false);
    expect(compiled.sourceColumns.has('qx')).toBe(true);
  });

  it('reports every failing field with its reason', () => {
    const r = compiled.map({ xh: '2', xm: ' ', xb: '5', csrq: '19851332', sfzh: ID.slice(0, 17) + (ID[17] === '0' ? '1' : '0'), zt: '09', rs: '0', je: 'abc' });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.key).toBe('2');
    const byField = Object.fromEntries(r.errors.map((e) => [e.field, e.reason]));
    expect(Object.keys(byField).sort()).toEqual(['amount', 'birth_date', 'id_number', 'member_count', 'name', 'sex', 'status']);
    expect(byField.name).toMatch(/required/);
    expect(byField.sex).toMatch(/unknown code "5"/);
    expect(byField.id_number).toMatch(/check digit/);
    expect(byField.birth_date).toMatch(/not a date/);
  });

  it('fails a record without a key', () => {
    const r = compiled.map({ xm: '王五' });
    expect(r).toMatchObject({ ok: false, key: null, errors: [{ field: '_key' }] });
  });

  it('parses Excel serials, epoch and zoned ISO timestamps', () => {
    expect(parseDateTime(45296, ['excel'])?.date).toBe('2024-01-05');
    expect(parseDateTime('45296.5', ['excel'])?.timestamp).toBe('2024-01-05T04:00:00.000Z');
    expect(parseDateTime('2024-01-05T08:00:00Z', ['iso'])?.timestamp).toBe('2024-01-05T08:00:00.000Z');
    expect(parseDateTime('2024-01-05T08:00:00+08:00', ['iso'])?.timestamp).toBe('2024-01-05T00:00:00.000Z');
    expect(parseDateTime('2024-01-05T23:30:00Z', ['iso'])?.date).toBe('2024-01-06'); // the Shanghai calendar date
    expect(parseDateTime('20240230', ['YYYYMMDD'])).toBeNull();
  });

  it('upgrades 15-digit ID numbers', () => {
    const r = normaliseIdNumber('510104850312123');
    expect(r).toEqual({ ok: true, value: validId('51010419850312123') });
  });

  it('validates a mapping, naming the path of every problem', () => {
    expect(validateMapping(mapping, 'CIVIL_AFFAIRS')).toBe(mapping);
    const bad = { version: 1, streams: { s: { target: 'police.incidents', fields: { sex: { from: 'xb', codes: 'nope' }, x: { frm: 'a' } },
      event: { kind: 'police_incident', title: 'summary', occurredAt: 'reported_at', status: { field: 'status', codes: { a: 'done' } } } } } };
    expect(() => validateMapping(bad, 'JUSTICE')).toThrow(/mapping\/streams\/s\/fields\/x.*additional properties "frm"/);
    try {
      validateMapping({ ...bad, streams: { s: { ...bad.streams.s, fields: { sex: { from: 'xb', codes: 'nope' }, status: 'zt' } } } }, 'JUSTICE');
      throw new Error('accepted');
    } catch (err) {
      const problems = (err as { details: { problems: string[] } }).details.problems;
      expect(problems).toEqual(expect.arrayContaining([
        expect.stringMatching(/^mapping\/streams\/s\/target: a JUSTICE connector writes only to the justice schema/),
        'mapping/streams/s/fields/sex/codes: unknown code table "nope"',
        'mapping/streams/s/event/title: "summary" is not a mapped field',
        expect.stringMatching(/^mapping\/streams\/s\/event\/status: "done" is not a closed-loop status/),
      ]));
    }
  });
  it('maps GB/T 4761 family-relation codes to their names and keeps words a source already wrote out', () => {
    const relation: Mapping = {
      version: 1,
      streams: { hj: { target: 'civil.households', key: ['xh'], fields: { name: { from: 'yhzgx', codes: 'gbt4761_relation', unknownCode: 'keep' } } } },
    };
    const c = compileStream(relation, 'hj', columns);
    const nameOf = (yhzgx: string) => { const r = c.map({ xh: '1', yhzgx }); return r.ok ? r.values.name : r; };
    expect(nameOf('02')).toBe('户主');
    expect(nameOf('10')).toBe('配偶');
    expect(nameOf('30')).toBe('女');
    expect(nameOf('52')).toBe('母亲');
    expect(nameOf('99')).toBe('非亲属');
    expect(nameOf('户主')).toBe('户主');
  });
});

function toFullWidth(s: string): string {
  return s.replace(/[!-~]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));
}
