import { pino, type Logger as PinoLogger, type LoggerOptions } from 'pino';
import { redact, redactDeep } from './redact.js';

/** Structured JSON logs, one object per line, to stdout. */
export type Logger = PinoLogger;

export function createLogger(level: string, base: Record<string, unknown> = {}, destination?: NodeJS.WritableStream): Logger {
  const options: LoggerOptions = {
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
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}
