import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import type { InventoryServiceServer } from '../../src/gen/inventory/v1/inventory_service.js';
import { createInventoryClient, IncomingStatus as ClientIncomingStatus, StockState, type InventoryClient } from '../../clients/src/index.js';
import { IncomingStatus } from '../../src/gen/inventory/v1/stock_states.js';
import { failure, startTestApp, type PromiseClient, type TestApp } from '../support/app.js';
import { eventually, readStream } from '../support/dynamo.js';
import { drained, expectClean, rebuild, verify, rebuildIntoEmpty } from '../support/replay.js';
import { brokenInvariants, seed, sql } from '../support/stock.js';

const day = (d: number) => new Date(Date.UTC(2027, 0, d));

describe('incoming stock: record, list, receive in parts, cancel (e2e)', () => {
  let t: TestApp;
  let c: PromiseClient<InventoryServiceServer>;
  before(async () => {
    t = await startTestApp();
    c = t.client;
    await seed(c, { BER: 1, HAM: 2 }, ['S1', 'S2']);
    await c.receiveStock({ sku: 'S1', warehouseCode: 'BER', quantity: 5n });
  });
  after(() => t.stop());

  it('records incoming stock; a repeat with the same id and fields returns it, other fields are refused', async () => {
    const po = { incomingId: 'PO-1-1', sku: 'S1', warehouseCode: 'BER', quantity: 10n, expectedTime: day(10), reference: 'PO-1' };
    const first = await c.recordIncomingStock(po);
    expect(first.incomingStock).to.deep.include({ incomingId: 'PO-1-1', quantity: 10n, received: 0n, outstanding: 10n, status: IncomingStatus.INCOMING_STATUS_OPEN, version: 1n });
    expect(first.incomingStock!.expectedTime).to.deep.equal(day(10));
    expect((await c.recordIncomingStock(po)).incomingStock).to.deep.equal(first.incomingStock);
    const clash = await failure(c.recordIncomingStock({ ...po, quantity: 11n }));
    expect([clash.code, clash.details]).to.deep.equal([status.FAILED_PRECONDITION, 'incoming_id "PO-1-1" was already recorded with different fields']);
    // Cached with 10 incoming: recording more (an incoming# event only) must refresh it.
    expect((await c.getAvailability({ sku: 'S1' })).incoming).to.equal(10n);
    expect((await c.getAvailability({ sku: 'S1' })).incoming).to.equal(10n);
    await c.recordIncomingStock({ incomingId: 'TR-9', sku: 'S1', warehouseCode: 'HAM', quantity: 4n, expectedTime: day(3), reference: 'transfer from MUC' });
    expect((await c.getAvailability({ sku: 'S1' })).incoming).to.equal(14n);
    await c.recordIncomingStock({ incomingId: 'PO-2-1', sku: 'S2', warehouseCode: 'BER', quantity: 7n, expectedTime: day(1) });
  });

  it('GetAvailability reports incoming separately with the dates; it is never allocatable', async () => {
    const a = await c.getAvailability({ sku: 'S1' });
    expect(a).to.deep.include({ onHand: 5n, available: 5n, allocatable: 5n, incoming: 14n });
    expect(a.incomingStock.map((r) => [r.incomingId, r.warehouseCode, r.outstanding, r.expectedTime?.toISOString()])).to.deep.equal([
      ['TR-9', 'HAM', 4n, day(3).toISOString()],
      ['PO-1-1', 'BER', 10n, day(10).toISOString()],
    ]);
    const short = await failure(c.allocateStock({ allocationId: 'ord-1', lines: [{ sku: 'S1', quantity: 6n }] }));
    expect(short.code).to.equal(status.FAILED_PRECONDITION);
  });

  it('receives in parts: on_hand grows with each receipt, the record closes once everything came', async () => {
    const cached = await c.getAvailability({ sku: 'S1' }); // cached now: a receipt must refresh it
    expect(cached.incoming).to.equal(14n);
    const r1 = await c.receiveIncomingStock({ incomingId: 'PO-1-1', quantity: 4n, idempotencyKey: 'rcv-1' });
    expect(r1.incomingStock).to.deep.include({ received: 4n, outstanding: 6n, status: IncomingStatus.INCOMING_STATUS_OPEN, version: 2n });
    expect(r1.stockLevel).to.deep.include({ onHand: 9n, available: 9n });
    const again = await c.receiveIncomingStock({ incomingId: 'PO-1-1', quantity: 4n, idempotencyKey: 'rcv-1' });
    expect(again).to.deep.equal(r1);
    expect(await c.getAvailability({ sku: 'S1' })).to.deep.include({ onHand: 9n, incoming: 10n });

    const over = await failure(c.receiveIncomingStock({ incomingId: 'PO-1-1', quantity: 7n }));
    expect([over.code, over.details]).to.deep.equal([
      status.FAILED_PRECONDITION,
      'quantity: incoming stock "PO-1-1" has 6 units outstanding, not 7 (receive a surplus with ReceiveStock)',
    ]);
    const r2 = await c.receiveIncomingStock({ incomingId: 'PO-1-1', quantity: 6n, reference: 'delivery 2' });
    expect(r2.incomingStock).to.deep.include({ received: 10n, outstanding: 0n, status: IncomingStatus.INCOMING_STATUS_RECEIVED, version: 3n });
    expect(r2.stockLevel).to.deep.include({ onHand: 15n });
    const closed = await failure(c.receiveIncomingStock({ incomingId: 'PO-1-1', quantity: 1n }));
    expect([closed.code, closed.details]).to.deep.equal([status.FAILED_PRECONDITION, 'incoming stock "PO-1-1" is RECEIVED and cannot be received against']);

    const { movements } = await c.listStockMovements({ sku: 'S1', warehouseCode: 'BER', pageSize: 2 });
    expect(movements.map((m) => [m.onHandDelta, m.reference, m.idempotencyKey])).to.deep.equal([
      [6n, 'delivery 2', ''],
      [4n, 'PO-1', 'rcv-1'],
    ]);
    const stock = await eventually(async () => {
      const e = await readStream(t.table, 'stock#S1#BER');
      expect(e).to.have.length(3);
      return e;
    });
    expect(stock[1]!.data).to.deep.include({ incomingId: 'PO-1-1', onHandDelta: 4 });
    const own = await eventually(async () => {
      const e = await readStream(t.table, 'incoming#S1#PO-1-1');
      expect(e).to.have.length(3);
      return e;
    });
    expect(own.map((e) => e.type)).to.deep.equal(['IncomingStockRecorded', 'IncomingStockReceived', 'IncomingStockReceived']);
  });

  it('cancels what is outstanding; received units stay; cancelling twice returns it unchanged', async () => {
    await c.receiveIncomingStock({ incomingId: 'TR-9', quantity: 1n });
    const cancelled = await c.cancelIncomingStock({ incomingId: 'TR-9', reason: 'short shipment' });
    expect(cancelled.incomingStock).to.deep.include({ received: 1n, outstanding: 0n, status: IncomingStatus.INCOMING_STATUS_CANCELLED, version: 3n });
    expect((await c.cancelIncomingStock({ incomingId: 'TR-9' })).incomingStock).to.deep.equal(cancelled.incomingStock);
    expect((await failure(c.cancelIncomingStock({ incomingId: 'PO-1-1' }))).code).to.equal(status.FAILED_PRECONDITION);
    expect((await failure(c.receiveIncomingStock({ incomingId: 'TR-9', quantity: 1n }))).code).to.equal(status.FAILED_PRECONDITION);
    expect(await c.getAvailability({ sku: 'S1' })).to.deep.include({ onHand: 16n, incoming: 0n, incomingStock: [] });
  });

  it('lists by sku or warehouse, open only unless include_closed, earliest first, in pages', async () => {
    const ids = async (req: Record<string, unknown>) => (await c.listIncomingStock(req)).incomingStock.map((r) => r.incomingId);
    expect(await ids({})).to.deep.equal(['PO-2-1']);
    expect(await ids({ includeClosed: true })).to.deep.equal(['PO-2-1', 'TR-9', 'PO-1-1']);
    expect(await ids({ sku: 'S1', includeClosed: true })).to.deep.equal(['TR-9', 'PO-1-1']);
    expect(await ids({ warehouseCode: 'BER', includeClosed: true })).to.deep.equal(['PO-2-1', 'PO-1-1']);
    const p1 = await c.listIncomingStock({ includeClosed: true, pageSize: 2 });
    const p2 = await c.listIncomingStock({ includeClosed: true, pageSize: 2, pageToken: p1.nextPageToken });
    expect([...p1.incomingStock, ...p2.incomingStock].map((r) => r.incomingId)).to.deep.equal(['PO-2-1', 'TR-9', 'PO-1-1']);
    expect(p2.nextPageToken).to.equal('');
    expect((await failure(c.listIncomingStock({ pageToken: p1.nextPageToken }))).code).to.equal(status.INVALID_ARGUMENT);
  });

  it('concurrent receipts never take more than is outstanding', async () => {
    await c.recordIncomingStock({ incomingId: 'PO-3-1', sku: 'S2', warehouseCode: 'HAM', quantity: 6n, expectedTime: day(4) });
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, () =>
        c.receiveIncomingStock({ incomingId: 'PO-3-1', quantity: 1n }).then(
          () => 'ok',
          (e: { code: status }) => (e.code === status.FAILED_PRECONDITION ? 'refused' : `unexpected ${e.code}`),
        ),
      ),
    );
    expect(outcomes.sort()).to.deep.equal([...Array(6).fill('ok'), ...Array(4).fill('refused')]);
    expect((await c.getStockLevel({ sku: 'S2', warehouseCode: 'HAM' })).stockLevel!.onHand).to.equal(6n);
    const [r] = (await c.listIncomingStock({ sku: 'S2', warehouseCode: 'HAM', includeClosed: true })).incomingStock;
    expect(r).to.deep.include({ received: 6n, status: IncomingStatus.INCOMING_STATUS_RECEIVED, version: 7n });
  });

  it('rejects bad input naming the field, and changes nothing', async () => {
    const before = await sql(t.databaseUrl, 'select count(*)::int as n from event_outbox');
    const ok = { incomingId: 'X-1', sku: 'S1', warehouseCode: 'BER', quantity: 1n, expectedTime: day(5) };
    const cases: Array<[() => Promise<unknown>, status, RegExp]> = [
      [() => c.recordIncomingStock({ ...ok, incomingId: '' }), status.INVALID_ARGUMENT, /^incoming_id:/],
      [() => c.recordIncomingStock({ ...ok, incomingId: 'a b' }), status.INVALID_ARGUMENT, /^incoming_id:/],
      [() => c.recordIncomingStock({ ...ok, quantity: 0n }), status.INVALID_ARGUMENT, /^quantity:/],
      [() => c.recordIncomingStock({ ...ok, expectedTime: undefined }), status.INVALID_ARGUMENT, /^expected_time:/],
      [() => c.recordIncomingStock({ ...ok, sku: 'NOPE' }), status.NOT_FOUND, /^sku:/],
      [() => c.recordIncomingStock({ ...ok, warehouseCode: 'NOPE' }), status.NOT_FOUND, /^warehouse_code:/],
      [() => c.receiveIncomingStock({ incomingId: 'NOPE', quantity: 1n }), status.NOT_FOUND, /^incoming_id: incoming stock "NOPE" not found/],
      [() => c.receiveIncomingStock({ incomingId: 'PO-2-1', quantity: -1n }), status.INVALID_ARGUMENT, /^quantity:/],
      [() => c.cancelIncomingStock({ incomingId: '' }), status.INVALID_ARGUMENT, /^incoming_id:/],
      [() => c.listIncomingStock({ warehouseCode: 'bad code' }), status.INVALID_ARGUMENT, /^warehouse_code:/],
    ];
    for (const [call, code, message] of cases) {
      const e = await failure(call());
      expect(e.code === code && message.test(e.details), `${status[e.code]} ${e.details}`).to.equal(true);
    }
    expect(await sql(t.databaseUrl, 'select count(*)::int as n from event_outbox')).to.deep.equal(before);
    const bad = await sql(t.databaseUrl, `update incoming_stock set received = quantity + 1 where incoming_id = 'PO-2-1'`).then(
      () => undefined,
      (e: Error) => e.message,
    );
    expect(bad).to.match(/incoming_stock_received_check/);
  });

  it('verify passes after each step; rebuild reproduces the incoming stock, the levels and the ledger', async function () {
    this.timeout(60_000);
    expect(await brokenInvariants(t.databaseUrl)).to.deep.equal([]);
    await drained(t.app);
    const r = await verify(t.databaseUrl, t.table);
    expectClean(r);
    expect(r.lines.join('\n')).to.match(/incoming 4\/4 streams, 0 differences/);

    const { url } = await rebuildIntoEmpty(t.table);
    for (const q of [
      'select * from incoming_stock order by incoming_id',
      'select sku, warehouse_code, on_hand, allocated, version, updated_at from stock_level where version > 0 order by 1, 2',
      'select id, created_at, sku, warehouse_code, type, on_hand_delta, reference, stock_version from stock_movement order by id',
    ]) {
      expect(await sql(url, q), q).to.deep.equal(await sql(t.databaseUrl, q));
    }
    expectClean(await verify(url, t.table));
  });
});

describe('the client package: MoveStock and incoming stock with numbers (e2e)', () => {
  let t: TestApp;
  let client: InventoryClient;
  before(async () => {
    t = await startTestApp();
    client = createInventoryClient(t.address);
    await seed(t.client, { BER: 1 }, ['S1']);
  });
  after(async () => {
    client?.close();
    await t?.stop();
  });

  it('moves, records, receives against, lists and cancels', async () => {
    await client.receiveStock({ sku: 'S1', warehouseCode: 'BER', quantity: 10 });
    const moved = await client.moveStock({ sku: 'S1', warehouseCode: 'BER', fromState: StockState.STOCK_STATE_AVAILABLE, toState: StockState.STOCK_STATE_QUALITY_CONTROL, quantity: 3, reason: 'QC' });
    expect(moved.stockLevel).to.deep.include({ onHand: 10, qualityControl: 3, available: 7 });
    await client.recordIncomingStock({ incomingId: 'PO-7', sku: 'S1', warehouseCode: 'BER', quantity: 5, expectedTime: day(2) });
    const r = await client.receiveIncomingStock({ incomingId: 'PO-7', quantity: 2 });
    expect([r.incomingStock?.outstanding, r.stockLevel?.onHand]).to.deep.equal([3, 12]);
    expect((await client.getAvailability({ sku: 'S1' })).incoming).to.equal(3);
    expect((await client.listIncomingStock({ sku: 'S1' })).incomingStock.map((i) => i.incomingId)).to.deep.equal(['PO-7']);
    const cancelled = await client.cancelIncomingStock({ incomingId: 'PO-7', reason: 'late' });
    expect(cancelled.incomingStock?.status).to.equal(ClientIncomingStatus.INCOMING_STATUS_CANCELLED);
  });
});
