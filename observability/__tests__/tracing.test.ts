import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { tracesExporterOf } from '../tracing';

interface SpanOut { name: string; kind: number; traceId: string; spanId: string; parentSpanId: string | null; attributes: Record<string, unknown> }

// OpenTelemetry instruments `pg` and `http` as they are required, which Jest's module loader bypasses: the
// traced run is a real process of its own (fixtures/trace-run.ts) that prints its finished spans.
describe('tracing across gateway → subgraph → database', () => {
  it('puts the gateway request, its subgraph fetches, the subgraphs\' requests and their SQL in one trace via traceparent', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', join(__dirname, 'fixtures', 'trace-run.ts')], {
      cwd: join(__dirname, '..', '..'), env: { ...process.env, LOG_LEVEL: 'silent', NODE_OPTIONS: '' }, timeout: 90_000, maxBuffer: 64 * 1024 * 1024,
    });
    const run = JSON.parse(stdout.trim().split('\n').pop()!) as { name: string; gateway: string; subgraphs: { name: string; port: number }[]; spans: SpanOut[] };
    expect(run.name).toBe('张建国');
    const gatewayPort = Number(new URL(run.gateway).port);
    const port = (s: SpanOut) => Number(s.attributes['server.port']);
    const incoming = run.spans.filter((s) => s.kind === 1 && s.attributes['url.path'] === '/graphql');
    const root = incoming.find((s) => port(s) === gatewayPort)!;
    expect(root).toBeDefined();
    const trace = run.spans.filter((s) => s.traceId === root.traceId);
    const byId = new Map(trace.map((s) => [s.spanId, s]));
    const descendsFrom = (s: SpanOut, ancestor: SpanOut): boolean => {
      for (let p = s.parentSpanId ? byId.get(s.parentSpanId) : undefined; p; p = p.parentSpanId ? byId.get(p.parentSpanId) : undefined) if (p === ancestor) return true;
      return false;
    };

    // Person.name from core, Person.subsidies from civil-affairs: two fetches, each continued in its subgraph.
    for (const name of ['core', 'civil-affairs']) {
      const subgraphPort = run.subgraphs.find((s) => s.name === name)!.port;
      const client = trace.find((s) => s.kind === 2 && port(s) === subgraphPort && String(s.attributes['url.full']).endsWith('/graphql'));
      expect(client).toBeDefined();
      expect(descendsFrom(client!, root)).toBe(true);
      // The subgraph's server span is the child of the gateway's client span: the traceparent header carried it.
      const server = trace.find((s) => s.kind === 1 && port(s) === subgraphPort)!;
      expect(server).toBeDefined();
      expect(server.parentSpanId).toBe(client!.spanId);
      const sql = trace.filter((s) => s.name.startsWith('pg.query') && descendsFrom(s, server));
      expect(sql.length).toBeGreaterThanOrEqual(1);
    }
  });

  it('is off unless an exporter is named, and refuses an unknown one', () => {
    expect(tracesExporterOf(undefined)).toBe('none');
    expect(tracesExporterOf('OTLP')).toBe('otlp');
    expect(() => tracesExporterOf('jaeger')).toThrow(/none, otlp or console/);
  });
});
