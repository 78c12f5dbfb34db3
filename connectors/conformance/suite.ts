import { createSpecAjv } from '../config-validation';
import type { ConnectorContext, ConnectorKind, ReadMessage, ReadOptions, StreamConfig } from '../contract';
import { redactSecrets, secretPaths } from '../secrets';

/**
 * The one conformance suite every connector kind passes (after Airbyte's `source_base` standard tests).
 * A kind's test file calls `describeConformance(name, factory)`; the factory sets up a REAL source (a database,
 * an HTTP server, a folder, the hub's push table) holding a few rows, and describes it.
 *
 * The suite runs its tests in order on one source: spec → check (good, bad, wrong credentials) → discover →
 * full read → resume → incremental after a mutation → full read again.
 */
export interface ConformanceFixture {
  kind: ConnectorKind;
  goodConfig: Record<string, unknown>;
  /** Configurations that must fail `check` with TL_ERR_CONNECTOR_CONFIG (naming `field` when given). */
  badConfigs: Array<{ config: Record<string, unknown>; field?: string }>;
  /**
   * Wrong credentials: a config `check` must reject with TL_ERR_CONNECTOR_AUTH, or, for inbound kinds, a probe
   * (a push with a wrong token). A kind without credentials says why (and its spec must mark no secret).
   */
  wrongAuth: { config: Record<string, unknown> } | { probe(): Promise<{ code?: string }> } | { notApplicable: string };
  /** Settings the spec must mark `"x-secret": true` (paths such as `password`, `auth.token`). */
  secretFields: string[];
  /** The stream under test; the source holds more rows than one page or one checkpoint covers. */
  stream: StreamConfig;
  context?: ConnectorContext;
  /** Every row now in the source, as the connector should return it (at least the compared fields). */
  sourceRows(): Promise<Record<string, unknown>[]>;
  /** Fields compared between source rows and records (Chinese text among them). */
  compareFields: string[];
  keyOf(data: Record<string, unknown>): string;
  /** Change some rows and add new ones; returns the keys an incremental read must now return. */
  mutate(): Promise<{ changedKeys: string[] }>;
  /** Whether a repeated record is legitimate (inside the look-back window of `state`). Default: never. */
  duplicateAllowed?(data: Record<string, unknown>, state: unknown): boolean;
  cleanup(): Promise<void>;
}

export interface CollectedRead {
  records: Extract<ReadMessage, { type: 'record' }>[];
  states: unknown[];
  lastState: unknown;
}

/** Drain a read; `stopAfterStates` ends it (closing the source cleanly) after that many state checkpoints. */
export async function collectRead(kind: ConnectorKind, config: Record<string, unknown>, options: ReadOptions, stopAfterStates?: number): Promise<CollectedRead> {
  const out: CollectedRead = { records: [], states: [], lastState: options.state };
  for await (const m of kind.read(config, options)) {
    if (m.type === 'record') out.records.push(m);
    else if (m.type === 'state') {
      out.states.push(m.state);
      out.lastState = m.state;
      if (stopAfterStates !== undefined && out.states.length >= stopAfterStates) break;
    }
  }
  return out;
}

function comparable(row: Record<string, unknown>, fields: string[]): Record<string, string | null> {
  return Object.fromEntries(fields.map((f) => [f, row[f] === null || row[f] === undefined ? null : String(row[f])]));
}

export function describeConformance(name: string, factory: () => Promise<ConformanceFixture>): void {
  describe(`connector conformance: ${name}`, () => {
    let fx: ConformanceFixture;
    const opts = (mode: ReadOptions['mode'], state: unknown): ReadOptions => ({ stream: fx.stream, mode, state, ...(fx.context ? { context: fx.context } : {}) });

    beforeAll(async () => {
      fx = await factory();
    });
    afterAll(async () => {
      await fx?.cleanup();
    });

    test('spec is a valid JSON Schema and marks the secrets', () => {
      const spec = fx.kind.spec();
      expect(spec.kind).toBe(name);
      const ajv = createSpecAjv();
      expect(ajv.validateSchema(spec.configSchema)).toBe(true);
      expect(() => ajv.compile(spec.configSchema)).not.toThrow();
      expect(secretPaths(spec)).toEqual(expect.arrayContaining(fx.secretFields));
      const redacted = JSON.stringify(redactSecrets(spec, fx.goodConfig));
      for (const path of fx.secretFields) {
        const value = path.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], fx.goodConfig);
        if (typeof value === 'string' && value) expect(redacted).not.toContain(value);
      }
    });

    test('check with good settings is ok', async () => {
      const result = await fx.kind.check(fx.goodConfig, fx.context);
      expect(result).toMatchObject({ ok: true });
    });

    test('check with bad settings fails with a code, without throwing', async () => {
      expect(fx.badConfigs.length).toBeGreaterThan(0);
      for (const bad of fx.badConfigs) {
        const result = await fx.kind.check(bad.config, fx.context);
        expect(result.ok).toBe(false);
        expect(result.code).toBe('TL_ERR_CONNECTOR_CONFIG');
        expect(result.message.length).toBeGreaterThan(10);
        if (bad.field) expect(result.message).toContain(bad.field);
      }
    });

    test('wrong credentials fail with TL_ERR_CONNECTOR_AUTH', async () => {
      if ('notApplicable' in fx.wrongAuth) {
        expect(fx.wrongAuth.notApplicable.length).toBeGreaterThan(10);
        expect(secretPaths(fx.kind.spec())).toEqual([]);
      } else if ('config' in fx.wrongAuth) {
        const result = await fx.kind.check(fx.wrongAuth.config, fx.context);
        expect(result).toMatchObject({ ok: false, code: 'TL_ERR_CONNECTOR_AUTH' });
      } else {
        expect(await fx.wrongAuth.probe()).toMatchObject({ code: 'TL_ERR_CONNECTOR_AUTH' });
      }
    });

    test('discover lists the stream with its primary key and cursor candidates', async () => {
      const streams = await fx.kind.discover(fx.goodConfig, fx.context);
      const stream = streams.find((s) => s.name === fx.stream.name);
      expect(stream).toBeDefined();
      expect(stream!.primaryKey).toEqual(fx.stream.primaryKey);
      if (fx.stream.cursorField) expect(stream!.cursorCandidates).toContain(fx.stream.cursorField);
      const names = stream!.columns.map((c) => c.name);
      for (const f of fx.compareFields) expect(names).toContain(f);
    });

    test('read of an unknown stream fails with TL_ERR_CONNECTOR_CONFIG', async () => {
      const unknown = { ...fx.stream, name: 'no_such_stream_here' };
      await expect(collectRead(fx.kind, fx.goodConfig, { ...opts('FULL_REFRESH', null), stream: unknown }))
        .rejects.toMatchObject({ code: 'TL_ERR_CONNECTOR_CONFIG' });
    });

    test('full refresh returns exactly the source rows', async () => {
      const source = await fx.sourceRows();
      const read = await collectRead(fx.kind, fx.goodConfig, opts('FULL_REFRESH', null));
      expect(read.records.every((r) => r.stream === fx.stream.name && !r.error)).toBe(true);
      const keys = read.records.map((r) => fx.keyOf(r.data));
      expect(new Set(keys).size).toBe(keys.length);
      expect([...keys].sort()).toEqual(source.map((r) => fx.keyOf(r)).sort());
      const byKey = new Map(read.records.map((r) => [fx.keyOf(r.data), r.data]));
      for (const row of source) expect(comparable(byKey.get(fx.keyOf(row))!, fx.compareFields)).toEqual(comparable(row, fx.compareFields));
    });

    test('resume: stopped after the first checkpoint and resumed from it, nothing is lost', async () => {
      const source = await fx.sourceRows();
      const first = await collectRead(fx.kind, fx.goodConfig, opts('INCREMENTAL', null), 1);
      expect(first.states).toHaveLength(1);
      expect(first.records.length).toBeGreaterThan(0);
      expect(first.records.length).toBeLessThan(source.length);
      const rest = await collectRead(fx.kind, fx.goodConfig, opts('INCREMENTAL', first.lastState));
      const firstKeys = new Set(first.records.map((r) => fx.keyOf(r.data)));
      for (const r of rest.records) {
        if (firstKeys.has(fx.keyOf(r.data))) expect(fx.duplicateAllowed?.(r.data, first.lastState) ?? false).toBe(true);
      }
      const union = new Set([...firstKeys, ...rest.records.map((r) => fx.keyOf(r.data))]);
      expect([...union].sort()).toEqual(source.map((r) => fx.keyOf(r)).sort());
    });

    test('incremental read from saved state returns only the changed and new rows', async () => {
      const initial = await collectRead(fx.kind, fx.goodConfig, opts('INCREMENTAL', null));
      expect(initial.lastState).not.toBeNull();
      expect(initial.lastState).toEqual(JSON.parse(JSON.stringify(initial.lastState))); // state is plain JSON
      const { changedKeys } = await fx.mutate();
      expect(changedKeys.length).toBeGreaterThan(0);
      const next = await collectRead(fx.kind, fx.goodConfig, opts('INCREMENTAL', initial.lastState));
      const got = next.records.filter((r) => !changedKeys.includes(fx.keyOf(r.data)));
      for (const r of got) expect(fx.duplicateAllowed?.(r.data, initial.lastState) ?? false).toBe(true);
      expect([...new Set(next.records.map((r) => fx.keyOf(r.data)))].filter((k) => changedKeys.includes(k)).sort()).toEqual([...changedKeys].sort());
      const source = new Map((await fx.sourceRows()).map((r) => [fx.keyOf(r), r]));
      for (const r of next.records) expect(comparable(r.data, fx.compareFields)).toEqual(comparable(source.get(fx.keyOf(r.data))!, fx.compareFields));
      // Nothing new since: reading again from the new state returns no changed row.
      const again = await collectRead(fx.kind, fx.goodConfig, opts('INCREMENTAL', next.lastState));
      for (const r of again.records) expect(fx.duplicateAllowed?.(r.data, next.lastState) ?? false).toBe(true);
    });

    test('full refresh after the changes returns every source row, the latest version last', async () => {
      const source = await fx.sourceRows();
      const read = await collectRead(fx.kind, fx.goodConfig, opts('FULL_REFRESH', null));
      // A source that keeps history (push batches) may return older versions first; the merge keeps the last.
      const latest = new Map(read.records.map((r) => [fx.keyOf(r.data), r.data]));
      expect([...latest.keys()].sort()).toEqual(source.map((r) => fx.keyOf(r)).sort());
      for (const row of source) expect(comparable(latest.get(fx.keyOf(row))!, fx.compareFields)).toEqual(comparable(row, fx.compareFields));
    });
  });
}
