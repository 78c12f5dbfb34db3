import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor, ConsoleSpanExporter, NodeTracerProvider, SimpleSpanProcessor, type SpanExporter, type SpanProcessor,
} from '@opentelemetry/sdk-trace-node';

/**
 * OpenTelemetry traces across gateway → subgraph → database, off unless an exporter is configured.
 *
 * Every part calls `startTracing(partName)` first thing in its process, before `pg` is loaded (the pg
 * instrumentation patches the module as it is required). Then:
 *  - the HTTP instrumentation makes a server span for each request a part receives and a client span for
 *    each request it sends, and carries the context in the W3C `traceparent` header: the gateway's fetch to
 *    a subgraph continues the gateway's trace, the subgraph's request span is its child;
 *  - the pg instrumentation adds a span per query (statement text without parameter values, so no personal
 *    data reaches the tracing backend).
 *
 * Exporter (OTEL_TRACES_EXPORTER, the OpenTelemetry variable): `none` (default: nothing is started, no
 * overhead), `otlp` (OTLP over HTTP to OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
 * default http://localhost:4318), `console` (spans on stdout, for a quick look).
 */
export type TracesExporter = 'none' | 'otlp' | 'console';

export interface TracingOptions {
  /** Default: OTEL_TRACES_EXPORTER, else 'none'. */
  exporter?: TracesExporter;
  /** Tests: an exporter of their own (spans exported as each ends). */
  spanExporter?: SpanExporter;
}

export interface Tracing {
  provider: NodeTracerProvider;
  shutdown(): Promise<void>;
}

let active: Tracing | null = null;

export function tracesExporterOf(value: string | undefined): TracesExporter {
  const v = (value ?? '').trim().toLowerCase();
  if (v === '' || v === 'none') return 'none';
  if (v === 'otlp' || v === 'console') return v;
  throw new Error(`OTEL_TRACES_EXPORTER must be none, otlp or console (got "${value}")`);
}

/** Start tracing for this process (once); null when tracing is off. */
export function startTracing(serviceName: string, options: TracingOptions = {}): Tracing | null {
  if (active) return active;
  const kind = options.spanExporter ? 'custom' : options.exporter ?? tracesExporterOf(process.env.OTEL_TRACES_EXPORTER);
  if (kind === 'none') return null;
  let processor: SpanProcessor;
  if (options.spanExporter) processor = new SimpleSpanProcessor(options.spanExporter);
  else if (kind === 'console') processor = new SimpleSpanProcessor(new ConsoleSpanExporter());
  else processor = new BatchSpanProcessor(new OTLPTraceExporter());
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': `tonglan-${serviceName}`, 'service.namespace': 'tonglan' }),
    spanProcessors: [processor],
  });
  // Registers the W3C trace-context propagator (`traceparent`) and the async-hooks context manager.
  provider.register();
  const unregister = registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({
        // Probes and scrapes are not worth a trace each.
        ignoreIncomingRequestHook: (req) => /^\/(healthz|readyz|metrics)\b/.test(req.url ?? ''),
      }),
      new PgInstrumentation({ enhancedDatabaseReporting: false }),
    ],
  });
  active = {
    provider,
    async shutdown() {
      unregister();
      await provider.shutdown();
      active = null;
    },
  };
  return active;
}
