import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/log.js';

/** The service's own logger (with its redaction), writing to memory. */
export function createLoggerTo(level = 'info'): { log: Logger; lines: () => string[] } {
  const out: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') out.push(line);
      done();
    },
  });
  return { log: createLogger(level, {}, stream), lines: () => out };
}
