import { context, propagation, ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { expect } from 'chai';
import { createInventoryClient, type InventoryClient } from '../../clients/src/index.js';
import { ScriptedServer } from '../support/scripted-server.js';

describe('client: trace context injection when @opentelemetry/api is present (int)', () => {
  let server: ScriptedServer;
  let client: InventoryClient;
  before(async () => {
    server = await new ScriptedServer().start();
    client = createInventoryClient(server.address);
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  });
  after(async () => {
    context.disable();
    propagation.disable();
    client.close();
    await server.stop();
  });

  const traceId = '0af7651916cd43dd8448eb211c80319c';
  const spanId = 'b7ad6b7169203331';
  const active = trace.setSpan(ROOT_CONTEXT, trace.wrapSpanContext({ traceId, spanId, traceFlags: TraceFlags.SAMPLED }));

  it('sends the active span as traceparent, and nothing outside a trace', async () => {
    await context.with(active, () => client.getItem({ sku: 'SKU-1' }));
    await client.getItem({ sku: 'SKU-2' });
    const [inTrace, outside] = server.callsOf('GetItem');
    expect(inTrace!.metadata.get('traceparent')).to.deep.equal([`00-${traceId}-${spanId}-01`]);
    expect(outside!.metadata.get('traceparent')).to.deep.equal([]);
  });

  it('keeps a traceparent the caller set explicitly', async () => {
    const explicit = `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01`;
    await context.with(active, () => client.getItem({ sku: 'SKU-3' }, { metadata: { traceparent: explicit } }));
    expect(server.callsOf('GetItem').at(-1)!.metadata.get('traceparent')).to.deep.equal([explicit]);
  });
});
