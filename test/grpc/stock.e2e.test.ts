import { Metadata, status } from '@grpc/grpc-js';
import { expect } from 'chai';
import type { InventoryServiceServer } from '../../src/gen/inventory/v1/inventory_service.js';
import { MovementType } from '../../src/gen/inventory/v1/stock.js';
import { failure, startTestApp, type PromiseClient, type TestApp } from '../support/app.js';
import { eventually, readStream } from '../support/dynamo.js';
import { brokenInvariants, seed, sql } from '../support/stock.js';

describe('stock levels: receive, adjust, transfer, read (e2e)', () => {
  let t: TestApp;
  let c: PromiseClient<InventoryServiceServer>;
  before(async () => {
    t = await startTestApp();
    c = t.client;
    await seed(c, { BER: 1, HAM: 2, MUC: 3 }, ['SKU-1', 'SKU-2', 'SKU-3']);
  });
  after(() => t.stop());

  const outboxCount = async () => Number((await sql<{ n: string }>(t.databaseUrl, 'select count(*) as n from event_outbox'))[0]!.n);

  it('GetStockLevel of a level that never had stock is zero, version 0', async () => {
    const { stockLevel } = await c.getStockLevel({ sku: 'SKU-1', warehouseCode: 'BER' });
    expect(stockLevel).to.deep.include({ sku: 'SKU-1', warehouseCode: 'BER', onHand: 0n, allocated: 0n, available: 0n, version: 0n });
    expect(stockLevel!.updateTime).to.equal(undefined);
  });

  it('ReceiveStock adds to on_hand, bumps the version, writes a ledger row and a StockReceived event', async () => {
    const first = await c.receiveStock({ sku: 'SKU-1', warehouseCode: 'BER', quantity: 10n, reference: 'PO-1' });
    expect(first.stockLevel).to.deep.include({ onHand: 10n, allocated: 0n, available: 10n, version: 1n });
    const second = await c.receiveStock({ sku: 'SKU-1', warehouseCode: 'BER', quantity: 5n, reference: 'PO-2' });
    expect(second.stockLevel).to.deep.include({ onHand: 15n, version: 2n });
    expect(second.stockLevel!.updateTime).to.be.instanceOf(Date);
    const got = await c.getStockLevel({ sku: 'SKU-1', warehouseCode: 'BER' });
    expect(got.stockLevel).to.deep.equal(second.stockLevel);

    const events = await eventually(async () => {
      const e = await readStream(t.table, 'stock#SKU-1#BER');
      expect(e).to.have.length(2);
      return e;
    });
    expect(events.map((e) => [e.type, e.version])).to.deep.equal([
      ['StockReceived', 1],
      ['StockReceived', 2],
    ]);
    expect(events[1]!.data).to.deep.include({ sku: 'SKU-1', warehouseCode: 'BER', onHandDelta: 5, allocatedDelta: 0, onHand: 15, allocated: 0, reference: 'PO-2' });
    const { movements } = await c.listStockMovements({ sku: 'SKU-1', warehouseCode: 'BER' });
    expect(movements.map((m) => [m.type, m.onHandDelta, m.reference, m.stockVersion])).to.deep.equal([
      [MovementType.MOVEMENT_TYPE_RECEIPT, 5n, 'PO-2', 2n],
      [MovementType.MOVEMENT_TYPE_RECEIPT, 10n, 'PO-1', 1n],
    ]);
    expect((events[1]!.data as { movementId: number }).movementId).to.equal(Number(movements[0]!.id));
  });

  it('an idempotency key applies a receipt once and replays the first result, also for concurrent duplicates', async () => {
    const req = { sku: 'SKU-2', warehouseCode: 'HAM', quantity: 7n, reference: 'PO-9', idempotencyKey: 'receipt-po-9' };
    const results = await Promise.all(Array.from({ length: 8 }, () => c.receiveStock(req)));
    for (const r of results) expect(r.stockLevel).to.deep.equal(results[0]!.stockLevel);
    expect(results[0]!.stockLevel).to.deep.include({ onHand: 7n, version: 1n });
    const later = await c.receiveStock(req);
    expect(later.stockLevel).to.deep.equal(results[0]!.stockLevel);
    const { stockLevel } = await c.getStockLevel({ sku: 'SKU-2', warehouseCode: 'HAM' });
    expect(stockLevel).to.deep.include({ onHand: 7n, version: 1n });
    const { movements } = await c.listStockMovements({ sku: 'SKU-2' });
    expect(movements).to.have.length(1);
    expect(movements[0]!.idempotencyKey).to.equal('receipt-po-9');
  });

  it('the same idempotency key with a different request is FAILED_PRECONDITION and changes nothing', async () => {
    const before = await outboxCount();
    const err = await failure(c.receiveStock({ sku: 'SKU-2', warehouseCode: 'HAM', quantity: 8n, reference: 'PO-9', idempotencyKey: 'receipt-po-9' }));
    expect(err.code).to.equal(status.FAILED_PRECONDITION);
    expect(err.details).to.match(/idempotency_key "receipt-po-9" was already used/);
    const other = await failure(
      c.adjustStock({ sku: 'SKU-2', warehouseCode: 'HAM', change: { $case: 'delta', value: 1n }, reason: 'x', idempotencyKey: 'receipt-po-9' }),
    );
    expect(other.code).to.equal(status.FAILED_PRECONDITION);
    expect(await outboxCount()).to.equal(before);
    expect((await c.getStockLevel({ sku: 'SKU-2', warehouseCode: 'HAM' })).stockLevel!.onHand).to.equal(7n);
  });

  it('AdjustStock by delta and to a new on_hand, with compare-and-set on the version', async () => {
    const a = await c.adjustStock({ sku: 'SKU-1', warehouseCode: 'BER', change: { $case: 'delta', value: -3n }, reason: 'damaged', reference: 'RMA-1' });
    expect(a.stockLevel).to.deep.include({ onHand: 12n, version: 3n });
    const b = await c.adjustStock({ sku: 'SKU-1', warehouseCode: 'BER', change: { $case: 'newOnHand', value: 20n }, reason: 'cycle count', expectedVersion: 3n });
    expect(b.stockLevel).to.deep.include({ onHand: 20n, version: 4n });
    const stale = await failure(
      c.adjustStock({ sku: 'SKU-1', warehouseCode: 'BER', change: { $case: 'newOnHand', value: 1n }, reason: 'cycle count', expectedVersion: 3n }),
    );
    expect(stale.code).to.equal(status.ABORTED);
    expect(stale.details).to.contain('version 4');
    // A count that confirms the books changes nothing.
    const same = await c.adjustStock({ sku: 'SKU-1', warehouseCode: 'BER', change: { $case: 'newOnHand', value: 20n }, reason: 'cycle count' });
    expect(same.stockLevel).to.deep.include({ onHand: 20n, version: 4n });
    const { movements } = await c.listStockMovements({ sku: 'SKU-1', warehouseCode: 'BER', pageSize: 2 });
    expect(movements.map((m) => [m.type, m.onHandDelta, m.reason])).to.deep.equal([
      [MovementType.MOVEMENT_TYPE_ADJUSTMENT, 8n, 'cycle count'],
      [MovementType.MOVEMENT_TYPE_ADJUSTMENT, -3n, 'damaged'],
    ]);
    const events = await eventually(async () => {
      const e = await readStream(t.table, 'stock#SKU-1#BER');
      expect(e).to.have.length(4);
      return e;
    });
    expect(events[3]).to.include({ type: 'StockAdjusted', version: 4 });
    expect(events[3]!.data).to.deep.include({ onHandDelta: 8, onHand: 20, reason: 'cycle count', reference: '' });
  });

  it('AdjustStock may not push on_hand below zero or below what is allocated', async () => {
    const below = await failure(c.adjustStock({ sku: 'SKU-1', warehouseCode: 'BER', change: { $case: 'delta', value: -21n }, reason: 'lost' }));
    expect(below.code).to.equal(status.FAILED_PRECONDITION);
    await c.allocateStock({ allocationId: 'adj-hold', lines: [{ sku: 'SKU-1', quantity: 15n, warehouseCode: 'BER' }] });
    const underAllocated = await failure(c.adjustStock({ sku: 'SKU-1', warehouseCode: 'BER', change: { $case: 'newOnHand', value: 14n }, reason: 'count' }));
    expect(underAllocated.code).to.equal(status.FAILED_PRECONDITION);
    expect(underAllocated.details).to.match(/15 allocated/);
    const ok = await c.adjustStock({ sku: 'SKU-1', warehouseCode: 'BER', change: { $case: 'newOnHand', value: 15n }, reason: 'count' });
    expect(ok.stockLevel).to.deep.include({ onHand: 15n, allocated: 15n, available: 0n });
    await c.releaseAllocation({ allocationId: 'adj-hold' });
  });

  it('TransferStock moves on_hand between warehouses in one transaction, creating the destination level', async () => {
    const r = await c.transferStock({ sku: 'SKU-1', fromWarehouseCode: 'BER', toWarehouseCode: 'MUC', quantity: 4n, reference: 'T-1' });
    expect(r.from).to.deep.include({ warehouseCode: 'BER', onHand: 11n });
    expect(r.to).to.deep.include({ warehouseCode: 'MUC', onHand: 4n, version: 1n });
    const short = await failure(c.transferStock({ sku: 'SKU-1', fromWarehouseCode: 'MUC', toWarehouseCode: 'BER', quantity: 5n }));
    expect(short.code).to.equal(status.FAILED_PRECONDITION);
    expect(short.details).to.match(/requested 5, available 4/);
    const events = await eventually(async () => {
      const e = await readStream(t.table, 'stock#SKU-1#MUC');
      expect(e).to.have.length(1);
      return e;
    });
    expect(events[0]).to.include({ type: 'StockTransferredIn', version: 1 });
    expect(events[0]!.data).to.deep.include({ fromWarehouseCode: 'BER', onHandDelta: 4, reference: 'T-1' });
  });

  it('GetAvailability sums the levels of a sku; allocatable leaves out inactive warehouses', async () => {
    await c.updateWarehouse({ code: 'MUC', active: false });
    const a = await c.getAvailability({ sku: 'SKU-1' });
    expect(a).to.deep.include({ sku: 'SKU-1', onHand: 15n, allocated: 0n, available: 15n, allocatable: 11n });
    expect(a.levels.map((l) => [l.warehouseCode, l.onHand])).to.deep.equal([
      ['BER', 11n],
      ['MUC', 4n],
    ]);
    await c.updateWarehouse({ code: 'MUC', active: true });
    const none = await c.getAvailability({ sku: 'SKU-3' });
    expect(none).to.deep.include({ onHand: 0n, available: 0n, allocatable: 0n, levels: [] });
    expect((await failure(c.getAvailability({ sku: 'NOPE' }))).code).to.equal(status.NOT_FOUND);
  });

  it('ListStockMovements filters by time and pages newest first', async () => {
    const all = await c.listStockMovements({ sku: 'SKU-1' });
    expect(all.movements.length).to.be.greaterThan(5);
    const times = all.movements.map((m) => m.createTime!.getTime());
    expect([...times].sort((x, y) => y - x)).to.deep.equal(times);
    const seen: bigint[] = [];
    let pageToken = '';
    do {
      const page = await c.listStockMovements({ sku: 'SKU-1', pageSize: 2, pageToken });
      seen.push(...page.movements.map((m) => m.id));
      pageToken = page.nextPageToken;
    } while (pageToken !== '');
    expect(seen).to.deep.equal(all.movements.map((m) => m.id));
    const future = await c.listStockMovements({ sku: 'SKU-1', startTime: new Date(Date.now() + 3_600_000) });
    expect(future.movements).to.have.length(0);
    const past = await c.listStockMovements({ sku: 'SKU-1', endTime: new Date(Date.now() + 1000), startTime: new Date(Date.now() - 3_600_000) });
    expect(past.movements).to.have.length(all.movements.length);
    const wrongFilter = await failure(c.listStockMovements({ sku: 'SKU-2', pageSize: 2, pageToken: (await c.listStockMovements({ sku: 'SKU-1', pageSize: 2 })).nextPageToken }));
    expect(wrongFilter.code).to.equal(status.INVALID_ARGUMENT);
    expect(wrongFilter.details).to.match(/^page_token:/);
  });

  const bad: Array<[string, () => Promise<unknown>, status, string]> = [
    ['zero quantity', () => c.receiveStock({ sku: 'SKU-3', warehouseCode: 'BER', quantity: 0n }), status.INVALID_ARGUMENT, 'quantity'],
    ['negative quantity', () => c.receiveStock({ sku: 'SKU-3', warehouseCode: 'BER', quantity: -5n }), status.INVALID_ARGUMENT, 'quantity'],
    ['absurd quantity', () => c.receiveStock({ sku: 'SKU-3', warehouseCode: 'BER', quantity: 1_000_000_001n }), status.INVALID_ARGUMENT, 'quantity'],
    ['int64 max quantity', () => c.receiveStock({ sku: 'SKU-3', warehouseCode: 'BER', quantity: 9223372036854775807n }), status.INVALID_ARGUMENT, 'quantity'],
    ['unknown sku', () => c.receiveStock({ sku: 'NOPE', warehouseCode: 'BER', quantity: 1n }), status.NOT_FOUND, 'sku'],
    ['unknown warehouse', () => c.receiveStock({ sku: 'SKU-3', warehouseCode: 'NOPE', quantity: 1n }), status.NOT_FOUND, 'warehouse_code'],
    ['malformed sku', () => c.receiveStock({ sku: 'a b', warehouseCode: 'BER', quantity: 1n }), status.INVALID_ARGUMENT, 'sku'],
    ['long reference', () => c.receiveStock({ sku: 'SKU-3', warehouseCode: 'BER', quantity: 1n, reference: 'r'.repeat(201) }), status.INVALID_ARGUMENT, 'reference'],
    ['long idempotency key', () => c.receiveStock({ sku: 'SKU-3', warehouseCode: 'BER', quantity: 1n, idempotencyKey: 'k'.repeat(129) }), status.INVALID_ARGUMENT, 'idempotency_key'],
    ['adjust without change', () => c.adjustStock({ sku: 'SKU-3', warehouseCode: 'BER', reason: 'x' }), status.INVALID_ARGUMENT, 'delta'],
    ['zero delta', () => c.adjustStock({ sku: 'SKU-3', warehouseCode: 'BER', change: { $case: 'delta', value: 0n }, reason: 'x' }), status.INVALID_ARGUMENT, 'delta'],
    ['negative new_on_hand', () => c.adjustStock({ sku: 'SKU-3', warehouseCode: 'BER', change: { $case: 'newOnHand', value: -1n }, reason: 'x' }), status.INVALID_ARGUMENT, 'new_on_hand'],
    ['missing reason', () => c.adjustStock({ sku: 'SKU-3', warehouseCode: 'BER', change: { $case: 'delta', value: 1n }, reason: '' }), status.INVALID_ARGUMENT, 'reason'],
    ['long reason', () => c.adjustStock({ sku: 'SKU-3', warehouseCode: 'BER', change: { $case: 'delta', value: 1n }, reason: 'x'.repeat(201) }), status.INVALID_ARGUMENT, 'reason'],
    ['negative expected_version', () => c.adjustStock({ sku: 'SKU-3', warehouseCode: 'BER', change: { $case: 'delta', value: 1n }, reason: 'x', expectedVersion: -1n }), status.INVALID_ARGUMENT, 'expected_version'],
    ['transfer to itself', () => c.transferStock({ sku: 'SKU-3', fromWarehouseCode: 'BER', toWarehouseCode: 'BER', quantity: 1n }), status.INVALID_ARGUMENT, 'to_warehouse_code'],
    ['transfer to unknown', () => c.transferStock({ sku: 'SKU-1', fromWarehouseCode: 'BER', toWarehouseCode: 'NOPE', quantity: 1n }), status.NOT_FOUND, 'to_warehouse_code'],
    ['get unknown warehouse', () => c.getStockLevel({ sku: 'SKU-1', warehouseCode: 'NOPE' }), status.NOT_FOUND, 'warehouse_code'],
    ['list bad time range', () => c.listStockMovements({ startTime: new Date(2000), endTime: new Date(1000) }), status.INVALID_ARGUMENT, 'end_time'],
  ];
  for (const [what, call, code, field] of bad) {
    it(`rejects ${what} with ${status[code]} naming ${field}, changing nothing`, async () => {
      const before = await outboxCount();
      const err = await failure(call());
      expect(err.code, err.details).to.equal(code);
      expect(err.details).to.match(new RegExp(`^${field.replace(/[[\]]/g, '\\$&')}:`));
      expect(await outboxCount()).to.equal(before);
    });
  }

  it('carries the caller correlation id into the events', async () => {
    const metadata = new Metadata();
    metadata.set('x-correlation-id', 'corr-stock-1');
    await c.receiveStock({ sku: 'SKU-3', warehouseCode: 'HAM', quantity: 1n }, metadata);
    const rows = await sql<{ correlation_id: string }>(t.databaseUrl, `select correlation_id from event_outbox where stream_id = 'stock#SKU-3#HAM'`);
    expect(rows.map((r) => r.correlation_id)).to.deep.equal(['corr-stock-1']);
  });

  it('every level agrees with its ledger, its allocations and its event stream', async () => {
    expect(await brokenInvariants(t.databaseUrl)).to.deep.equal([]);
  });
});
