import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import type { InventoryServiceServer } from '../../src/gen/inventory/v1/inventory_service.js';
import { failure, startTestApp, type PromiseClient, type TestApp } from '../support/app.js';
import { parse, promtoolCheckMetrics, scrape, value, type Sample } from '../support/metrics.js';
import { freePort } from '../support/process.js';
import { eventually, readStream } from '../support/dynamo.js';
import { eventClient, streamEvents } from '../support/events.js';
import { seed } from '../support/stock.js';

const rpc = (method: string) => ({ grpc_type: 'unary', grpc_service: 'inventory.v1.InventoryService', grpc_method: method });

describe('metrics: /metrics after known calls (e2e)', () => {
  let t: TestApp;
  let c: PromiseClient<InventoryServiceServer>;
  let port: number;
  before(async () => {
    port = await freePort();
    t = await startTestApp({ METRICS_PORT: String(port), AUDIT_ENABLED: 'true' });
    c = t.client;
    await seed(c, { A: 1 }, ['M1']);
    await c.receiveStock({ sku: 'M1', warehouseCode: 'A', quantity: 10n });
  });
  after(() => t.stop());

  const delta = (before: readonly Sample[], after: readonly Sample[], name: string, labels: Record<string, string> = {}) =>
    value(after, name, labels) - value(before, name, labels);

  it('counts RPCs with the grpc-ecosystem names, codes and histogram', async () => {
    const before = parse(await scrape(port));
    for (const id of ['m-1', 'm-2', 'm-3']) await c.allocateStock({ allocationId: id, lines: [{ sku: 'M1', quantity: 2n }] });
    const short = await failure(c.allocateStock({ allocationId: 'm-4', lines: [{ sku: 'M1', quantity: 100n }] }));
    expect(short.code).to.equal(status.FAILED_PRECONDITION);
    const after = parse(await scrape(port));

    const m = rpc('AllocateStock');
    expect(delta(before, after, 'grpc_server_started_total', m)).to.equal(4);
    expect(delta(before, after, 'grpc_server_handled_total', { ...m, grpc_code: 'OK' })).to.equal(3);
    expect(delta(before, after, 'grpc_server_handled_total', { ...m, grpc_code: 'FailedPrecondition' })).to.equal(1);
    expect(delta(before, after, 'grpc_server_handling_seconds_count', m)).to.equal(4);
    expect(delta(before, after, 'grpc_server_handling_seconds_bucket', { ...m, le: '+Inf' })).to.equal(4);
    expect(delta(before, after, 'grpc_server_msg_received_total', m)).to.equal(4);
    expect(delta(before, after, 'grpc_server_msg_sent_total', m)).to.equal(3);
    expect(delta(before, after, 'inventory_allocations_total', { outcome: 'created' })).to.equal(3);
    expect(delta(before, after, 'inventory_allocations_total', { outcome: 'insufficient_stock' })).to.equal(1);
    expect(delta(before, after, 'inventory_stock_movements_total', { type: 'StockAllocated' })).to.equal(3);
    expect(delta(before, after, 'inventory_allocation_batch_size_count')).to.be.within(1, 4);
    expect(delta(before, after, 'inventory_allocation_batch_size_sum')).to.equal(4);
    // No label carries a sku, warehouse or allocation id.
    for (const s of after) expect(Object.values(s.labels).join(' ')).to.not.match(/M1|m-\d/);
  });

  it('counts a replayed and a mismatched retry apart', async () => {
    const before = parse(await scrape(port));
    await c.allocateStock({ allocationId: 'm-1', lines: [{ sku: 'M1', quantity: 2n }] });
    const mismatch = await failure(c.allocateStock({ allocationId: 'm-1', lines: [{ sku: 'M1', quantity: 1n }] }));
    expect(mismatch.code).to.equal(status.FAILED_PRECONDITION);
    const after = parse(await scrape(port));
    expect(delta(before, after, 'inventory_allocations_total', { outcome: 'replayed' })).to.equal(1);
    expect(delta(before, after, 'inventory_allocations_total', { outcome: 'idempotency_mismatch' })).to.equal(1);
    expect(delta(before, after, 'inventory_stock_movements_total', { type: 'StockAllocated' })).to.equal(0);
  });

  it('counts the messages of a server stream and closes its open-stream gauge', async () => {
    await eventually(async () => expect(await readStream(t.table, 'stock#M1#A')).to.have.length.at.least(4));
    const before = parse(await scrape(port));
    const events = eventClient(t.address);
    try {
      const got = await streamEvents(events, { streamId: 'stock#M1#A' });
      const after = parse(await scrape(port));
      const m = { grpc_type: 'server_stream', grpc_service: 'inventory.v1.EventService', grpc_method: 'StreamEvents' };
      expect(delta(before, after, 'grpc_server_started_total', m)).to.equal(1);
      expect(delta(before, after, 'grpc_server_handled_total', { ...m, grpc_code: 'OK' })).to.equal(1);
      expect(delta(before, after, 'grpc_server_msg_received_total', m)).to.equal(1);
      expect(delta(before, after, 'grpc_server_msg_sent_total', m)).to.equal(got.length);
      expect(value(after, 'inventory_grpc_open_streams', { grpc_method: 'StreamEvents' })).to.equal(0);
    } finally {
      events.close();
    }
  });

  it('shows the event path, DynamoDB, pools, cache and process metrics', async () => {
    const before = parse(await scrape(port));
    await c.receiveStock({ sku: 'M1', warehouseCode: 'A', quantity: 1n });
    await t.app.relay.sweep();
    // The immediate append may still be under way (the sweep leaves its events to it): wait for it.
    await eventually(async () => expect((await t.app.relay.backlog()).count).to.equal(0));
    const after = parse(await scrape(port));
    expect(delta(before, after, 'inventory_stock_movements_total', { type: 'StockReceived' })).to.equal(1);
    expect(delta(before, after, 'inventory_events_appended_total')).to.be.at.least(1);
    expect(delta(before, after, 'inventory_event_append_lag_seconds_count')).to.equal(delta(before, after, 'inventory_events_appended_total'));
    expect(delta(before, after, 'inventory_relay_sweeps_total')).to.be.at.least(1);
    expect(value(after, 'inventory_outbox_backlog_events')).to.equal(0);
    expect(value(after, 'inventory_outbox_oldest_age_seconds')).to.equal(0);
    // Per-event PutItem on dynalite, 25-event batches where the endpoint has them (DynamoDB Local).
    const appendRequests = ['PutItem', 'BatchExecuteStatement'].map((operation) => value(after, 'inventory_dynamodb_requests_total', { operation, outcome: 'ok' }));
    expect(appendRequests[0]! + appendRequests[1]!).to.be.greaterThan(0);
    expect(value(after, 'inventory_db_pool_max_connections', { pool: 'primary' })).to.equal(20);
    expect(value(after, 'inventory_db_pool_connections', { pool: 'primary' })).to.be.greaterThan(0);
    expect(value(after, 'inventory_db_pool_waiting', { pool: 'primary' })).to.equal(0);
    expect(value(after, 'inventory_health_serving', { service: '' })).to.equal(1);
    expect(value(after, 'inventory_cache_bypassed')).to.equal(0);
    expect(value(after, 'inventory_feed_unsequenced_events')).to.be.at.least(0);
    expect(after.some((s) => s.name === 'nodejs_eventloop_lag_seconds')).to.equal(true);
    expect(after.some((s) => s.name === 'nodejs_heap_size_used_bytes')).to.equal(true);

    const hitsBefore = value(after, 'inventory_cache_hits_total');
    await c.getItem({ sku: 'M1' });
    await c.getItem({ sku: 'M1' });
    const cached = parse(await scrape(port));
    expect(value(cached, 'inventory_cache_hits_total') - hitsBefore).to.be.at.least(1);
    expect(value(cached, 'inventory_cache_entries')).to.be.greaterThan(0);
  });

  it('passes promtool check metrics', async function () {
    const result = promtoolCheckMetrics(await scrape(port));
    if (result === undefined) this.skip(); // only outside make test, which installs promtool and sets PROMTOOL
    expect(result.output).to.equal('');
    expect(result.status).to.equal(0);
  });

  it('exports every metric the alerts and the dashboard query, and their queries parse', async function () {
    const exported = new Set(parse(await scrape(port)).map((s) => s.name));
    const dashboard = JSON.parse(readFileSync('deploy/observability/dashboard.json', 'utf8')) as {
      panels: Array<{ targets?: Array<{ expr: string }> }>;
    };
    const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
    const alerts = readFileSync('deploy/observability/alerts.yml', 'utf8');
    expect(exprs.length).to.be.greaterThan(20);
    const used = new Set([...exprs.join(' ').matchAll(/\b(grpc_server_\w+|inventory_\w+|nodejs_\w+)/g), ...alerts.matchAll(/\b(grpc_server_\w+|inventory_\w+|nodejs_\w+)\{/g)].map((m) => m[1]!));
    expect(used.size).to.be.greaterThan(20);
    expect([...used].filter((name) => !exported.has(name))).to.deep.equal([]);

    const promtool = process.env.PROMTOOL;
    if (promtool === undefined || promtool === '') this.skip();
    // promtool checks PromQL inside rule files: wrap each dashboard query as a recording rule.
    const dir = mkdtempSync(path.join(tmpdir(), 'dashboard-'));
    const file = path.join(dir, 'dashboard-queries.yml');
    const rules = exprs.map((e, i) => `      - record: dashboard:q${i}\n        expr: ${JSON.stringify(e.replaceAll('$__rate_interval', '5m').replaceAll('$instance', '.*').replaceAll('$service', '.*').replaceAll('$method', '.*'))}`);
    writeFileSync(file, `groups:\n  - name: dashboard\n    rules:\n${rules.join('\n')}\n`);
    const r = spawnSync(promtool, ['check', 'rules', file], { encoding: 'utf8' });
    expect(`${r.stdout}${r.stderr}`).to.contain(`SUCCESS: ${exprs.length} rules found`);
  });

  it('answers 404 off /metrics', async () => {
    expect((await fetch(`http://127.0.0.1:${port}/other`)).status).to.equal(404);
  });
});
