import { Writable } from 'node:stream';
import { context, ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { expect } from 'chai';
import { createLogger } from '../../src/log.js';

describe('log lines name the trace of the call they belong to (unit)', () => {
  before(() => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  });
  after(() => context.disable());

  it('adds trace_id and span_id inside a span, nothing outside', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const log = createLogger('info', {}, sink);
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const spanId = '00f067aa0ba902b7';
    const ctx = trace.setSpan(ROOT_CONTEXT, trace.wrapSpanContext({ traceId, spanId, traceFlags: TraceFlags.SAMPLED }));
    await context.with(ctx, async () => {
      await Promise.resolve();
      log.info('inside');
    });
    log.info('outside');
    const [inside, outside] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(inside).to.include({ msg: 'inside', trace_id: traceId, span_id: spanId });
    expect(outside).to.not.have.property('trace_id');
    expect(outside).to.not.have.property('span_id');
  });
});
