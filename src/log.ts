import { context, trace } from '@opentelemetry/api';
import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';
import { redact, redactDeep } from './redact.js';

/** Structured JSON logs, one object per line, to stdout. */
export type Logger = PinoLogger;

/** `destination` defaults to stdout (tests pass their own). */
export function createLogger(level: string, base: Record<string, unknown> = {}, destination?: DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: 'inventory', ...base },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: {
      level: (label) => ({ level: label }),
      // Credentials never reach a log line, whoever logged them (driver errors, AWS errors, ...).
      log: (object) => redactDeep(object) as Record<string, unknown>,
    },
    hooks: {
      logMethod(args, method) {
        method.apply(this, args.map((a) => (typeof a === 'string' ? redact(a) : a)) as Parameters<typeof method>);
      },
    },
    // Every line written inside a traced call names its trace; a no-op while tracing is off.
    mixin: () => {
      const span = trace.getSpanContext(context.active());
      return span === undefined ? {} : { trace_id: span.traceId, span_id: span.spanId };
    },
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}
