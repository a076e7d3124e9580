import { context, trace } from '@opentelemetry/api';
import { pino, type Logger as PinoLogger } from 'pino';

/** Structured JSON logs, one object per line, to stdout. */
export type Logger = PinoLogger;

export function createLogger(level: string, base: Record<string, unknown> = {}): Logger {
  return pino({
    level,
    base: { service: 'inventory', ...base },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    // Every line written inside a traced call names its trace; a no-op while tracing is off.
    mixin: () => {
      const span = trace.getSpanContext(context.active());
      return span === undefined ? {} : { trace_id: span.traceId, span_id: span.spanId };
    },
  });
}
