import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Metadata } from '@grpc/grpc-js';
import { SpanKind } from '@opentelemetry/api';
import { expect } from 'chai';
import { EmbeddedDynamo } from '../../src/embedded/dynamodb.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { eventually } from '../support/dynamo.js';
import { OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.js';
import { freePort } from '../support/process.js';
import { freshDatabase, freshTableName, quietLog } from '../support/stack.js';
import { seed, sql } from '../support/stock.js';

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
/** Metadata carrying a caller's W3C trace context. */
function traced(traceId: string, parentSpanId: string): Metadata {
  const m = new Metadata();
  m.set('traceparent', `00-${traceId}-${parentSpanId}-01`);
  return m;
}

const SERVER = SpanKind.SERVER + 1; // OTLP numbers kinds from 1 (INTERNAL) where the API numbers from 0
const named = (spans: readonly ReceivedSpan[], name: string) => spans.filter((s) => s.name === name);

describe('tracing: spans over OTLP/HTTP to an in-process receiver (e2e)', function () {
  this.timeout(120_000);
  const receiver = new OtlpReceiver();
  let endpoint: string;
  before(async () => {
    endpoint = await receiver.start();
  });
  after(() => receiver.stop());

  const tracingEnv = () => ({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_BSP_SCHEDULE_DELAY: '50', RELAY_INTERVAL_MS: '100' });

  it('one AllocateStock: a server span continuing the traceparent, its transaction and PostgreSQL spans, and the append', async () => {
    const t: TestApp = await startTestApp(tracingEnv());
    try {
      await seed(t.client, { A: 1 }, ['T1']);
      await t.client.receiveStock({ sku: 'T1', warehouseCode: 'A', quantity: 5n });
      // The relay appends up to 25 pending events per request, from any calls: let the seeding's
      // go first, so the traced call's events make a batch (and DynamoDB requests) of their own.
      await eventually(async () => expect((await t.app.relay.backlog()).count).to.equal(0), 20_000);
      const traceId = hex(16);
      const callerSpan = hex(8);
      await t.client.allocateStock({ allocationId: 'traced-1', lines: [{ sku: 'T1', quantity: 2n }] }, traced(traceId, callerSpan));

      // The sweep may append the same rows again while the immediate append is in flight (harmless, idempotent).
      const immediate = () => named(receiver.trace(traceId), 'outbox append').filter((s) => s.attributes['inventory.append.path'] === 'immediate');
      await eventually(async () => expect(immediate()).to.have.length(1), 15_000);
      await eventually(async () => expect(receiver.trace(traceId).filter((s) => s.name.startsWith('DynamoDB.'))).to.not.be.empty, 15_000);
      const spans = receiver.trace(traceId);
      const [server] = named(spans, 'inventory.v1.InventoryService/AllocateStock');
      expect(server, 'server span').to.not.equal(undefined);
      expect(server!.parentSpanId).to.equal(callerSpan);
      expect(server!.kind).to.equal(SERVER);
      expect(server!.attributes['rpc.grpc.status_code']).to.equal(0);

      const [tx] = named(spans, 'transaction');
      expect(tx!.parentSpanId).to.equal(server!.spanId);
      const queries = spans.filter((s) => s.attributes['db.system.name'] === 'postgresql' || s.attributes['db.system'] === 'postgresql').filter((s) => s !== tx);
      expect(queries.length, 'PostgreSQL query spans').to.be.at.least(3);
      const text = (s: ReceivedSpan) => String(s.attributes['db.query.text'] ?? s.attributes['db.statement'] ?? '');
      const inTx = queries.filter((q) => q.parentSpanId === tx!.spanId).map(text);
      expect(inTx[0]).to.match(/^BEGIN/);
      expect(inTx.at(-1)).to.match(/^COMMIT/);
      expect(inTx.some((q) => /^insert into "?event_outbox"? /.test(q))).to.equal(true);
      // The feed sequencer's batch serves every call: it is not part of this one's trace.
      expect(queries.filter((q) => text(q).includes('event_feed'))).to.deep.equal([]);

      const appends = named(spans, 'outbox append');
      for (const append of appends) {
        expect(append.parentSpanId).to.equal(server!.spanId);
        expect(append.links).to.deep.equal([{ traceId, spanId: server!.spanId }]);
      }
      expect(immediate()[0]!.attributes['inventory.append.appended']).to.equal(2); // StockAllocated and AllocationCreated
      const appendIds = new Set(appends.map((a) => a.spanId));
      const dynamo = spans.filter((s) => s.name.startsWith('DynamoDB.'));
      for (const d of dynamo) expect(appendIds.has(d.parentSpanId ?? '')).to.equal(true);

      const rows = await sql<{ trace_context: string }>(t.databaseUrl, `select trace_context from event_outbox where stream_id = 'allocation#traced-1'`);
      expect(rows.map((r) => r.trace_context)).to.deep.equal([`00-${traceId}-${server!.spanId}-01`]);
    } finally {
      await t.stop();
    }
  });

  it('an event appended by the sweep of the next process, after a DynamoDB outage, joins the recording trace', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'inventory-trace-'));
    await chmod(dir, 0o755);
    const port = await freePort();
    let dynamo = new EmbeddedDynamo({ dataDir: dir, port, log: quietLog });
    await dynamo.start();
    const databaseUrl = await freshDatabase();
    const table = freshTableName();
    const env = { ...tracingEnv(), DYNAMODB_ENDPOINT: `http://127.0.0.1:${port}`, SHUTDOWN_TIMEOUT_MS: '2000' };
    let t = await startTestApp(env, { databaseUrl, table });
    try {
      await t.client.createWarehouse({ code: 'W1', name: 'One', region: 'eu', priority: 1 });
      // Only the traced event below may wait for the next process: this one is appended first.
      await eventually(async () => expect((await t.app.relay.backlog()).count).to.equal(0), 20_000);
      await dynamo.stop();
      const traceId = hex(16);
      await t.client.updateWarehouse({ code: 'W1', priority: 7 }, traced(traceId, hex(8)));
      await t.stop(); // DynamoDB is down: the event stays in the outbox

      dynamo = new EmbeddedDynamo({ dataDir: dir, port, log: quietLog });
      await dynamo.start();
      t = await startTestApp(env, { databaseUrl, table });
      // The first process's sweeps failed (appended 0); the next one's succeeds.
      const swept = () => named(receiver.trace(traceId), 'outbox append').filter((s) => s.attributes['inventory.append.path'] === 'sweep');
      await eventually(async () => expect(swept().filter((s) => s.attributes['inventory.append.appended'] === 1)).to.have.length(1), 20_000);
      expect(swept().filter((s) => s.attributes['inventory.append.appended'] === 0), 'failed sweeps while DynamoDB was down').to.not.be.empty;
      const spans = receiver.trace(traceId);
      const [server] = named(spans, 'inventory.v1.InventoryService/UpdateWarehouse');
      const sweep = swept().find((s) => s.attributes['inventory.append.appended'] === 1)!;
      expect(sweep.parentSpanId).to.equal(server!.spanId);
      expect(sweep.links).to.deep.equal([{ traceId, spanId: server!.spanId }]);
      await eventually(async () => expect(receiver.trace(traceId).some((s) => s.name.startsWith('DynamoDB.') && s.parentSpanId === sweep.spanId)).to.equal(true));
      for (const s of swept()) expect(s.parentSpanId).to.equal(server!.spanId);
    } finally {
      await t.stop();
      await dynamo.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('calls without a traceparent start their own trace', async () => {
    const t = await startTestApp(tracingEnv());
    try {
      const before = receiver.spans.length;
      await t.client.createItem({ sku: 'ROOT-1', name: 'root' });
      await eventually(async () => expect(receiver.spans.slice(before).filter((s) => s.name === 'inventory.v1.InventoryService/CreateItem')).to.have.length(1));
      const [server] = receiver.spans.slice(before).filter((s) => s.name === 'inventory.v1.InventoryService/CreateItem');
      expect(server!.parentSpanId ?? '').to.equal('');
    } finally {
      await t.stop();
    }
  });
});
