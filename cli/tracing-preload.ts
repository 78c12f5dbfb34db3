import { startTracing } from '../observability/tracing';

/**
 * Imported first by cli/hub.ts: a part process (`hub run <part>`) starts OpenTelemetry tracing before anything
 * loads `pg` or `http`, so their instrumentations can patch them. Off unless OTEL_TRACES_EXPORTER is set.
 */
const [command, part] = process.argv.slice(2);
if (command === 'run' && part) startTracing(part);
