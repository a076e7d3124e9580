import { context, trace } from '@opentelemetry/api';
import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';

/** Structured JSON logs, one object per line, to stdout. */
export type Logger = PinoLogger;

/** `destination` defaults to stdout (tests pass their own). */
export function createLogger(level: string, base: Record<string, unknown> = {}, destination?: DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: 'inventory', ...base },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    // Every line written inside a traced call names its trace; a no-op while tracing is off.
    mixin: () => {
      const span = trace.getSpanContext(context.active());
      return span === undefined ? {} : { trace_id: span.traceId, span_id: span.spanId };
    },
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}
