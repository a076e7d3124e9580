import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { AllocationStatus } from '../../src/gen/inventory/v1/allocation.js';
import type { InventoryServiceServer } from '../../src/gen/inventory/v1/inventory_service.js';
import { MovementType } from '../../src/gen/inventory/v1/stock.js';
import { failure, startTestApp, type PromiseClient, type TestApp } from '../support/app.js';
import { eventually, readStream } from '../support/dynamo.js';
import { brokenInvariants, seed, sql } from '../support/stock.js';

describe('allocations: allocate, release, fulfil, expire (e2e)', () => {
  let t: TestApp;
  let c: PromiseClient<InventoryServiceServer>;
  before(async () => {
    t = await startTestApp({ EXPIRY_SWEEP_INTERVAL_MS: '100' });
    c = t.client;
    await seed(c, { A: 1, B: 2, C: 3, OFF: 0 }, ['S1', 'S2', 'S3', 'S4', 'EMPTY'], { inactive: ['OFF'] });
    const receive = (sku: string, warehouseCode: string, quantity: bigint) => c.receiveStock({ sku, warehouseCode, quantity });
    await receive('S1', 'A', 5n);
    await receive('S1', 'B', 10n);
    await receive('S1', 'C', 10n);
    await receive('S2', 'B', 10n);
    await receive('S2', 'C', 10n);
    await receive('S3', 'A', 100n);
    await receive('S4', 'OFF', 100n);
    await receive('S4', 'C', 3n);
  });
  after(() => t.stop());

  const outboxCount = async () => Number((await sql<{ n: string }>(t.databaseUrl, 'select count(*) as n from event_outbox'))[0]!.n);
  const level = async (sku: string, warehouseCode: string) => (await c.getStockLevel({ sku, warehouseCode })).stockLevel!;
  const lines = (a: { lines: Array<{ sku: string; warehouseCode: string; quantity: bigint }> } | undefined) =>
    a!.lines.map((l) => `${l.sku}@${l.warehouseCode}x${l.quantity}`);

  it('allocates a line from the named warehouse and records it everywhere', async () => {
    const { allocation } = await c.allocateStock({ allocationId: 'order-1', lines: [{ sku: 'S1', quantity: 2n, warehouseCode: 'C' }] });
    expect(allocation).to.deep.include({ allocationId: 'order-1', status: AllocationStatus.ALLOCATION_STATUS_ALLOCATED, version: 1n });
    expect(lines(allocation)).to.deep.equal(['S1@Cx2']);
    expect(allocation!.expireTime).to.equal(undefined);
    expect(await level('S1', 'C')).to.deep.include({ onHand: 10n, allocated: 2n, available: 8n, version: 2n });
    expect((await c.getAllocation({ allocationId: 'order-1' })).allocation).to.deep.equal(allocation);
    const stockEvents = await eventually(async () => {
      const e = await readStream(t.table, 'stock#S1#C');
      expect(e).to.have.length(2);
      return e;
    });
    expect(stockEvents[1]).to.include({ type: 'StockAllocated', version: 2 });
    expect(stockEvents[1]!.data).to.deep.include({ allocationId: 'order-1', onHandDelta: 0, allocatedDelta: 2, allocated: 2 });
    const allocationEvents = await eventually(async () => {
      const e = await readStream(t.table, 'allocation#order-1');
      expect(e).to.have.length(1);
      return e;
    });
    expect(allocationEvents[0]).to.include({ type: 'AllocationCreated', version: 1 });
    const { requestHash, ...created } = allocationEvents[0]!.data as { requestHash?: string };
    expect(created).to.deep.equal({ allocationId: 'order-1', lines: [{ sku: 'S1', warehouseCode: 'C', quantity: 2 }], expireTime: null });
    expect(requestHash).to.be.a('string').and.not.equal(''); // so a rebuilt allocation still recognises a retry
    const { movements } = await c.listStockMovements({ sku: 'S1', warehouseCode: 'C', pageSize: 1 });
    expect(movements[0]).to.deep.include({ type: MovementType.MOVEMENT_TYPE_ALLOCATION, onHandDelta: 0n, allocatedDelta: 2n, allocationId: 'order-1' });
  });

  it('prefers one warehouse that can fill every line without a warehouse', async () => {
    // A (priority 1) has S1 but no S2; B can fill both.
    const { allocation } = await c.allocateStock({ allocationId: 'order-2', lines: [{ sku: 'S1', quantity: 3n }, { sku: 'S2', quantity: 3n }] });
    expect(lines(allocation)).to.deep.equal(['S1@Bx3', 'S2@Bx3']);
  });

  it('otherwise fills by priority, splitting a line that no single warehouse can fill', async () => {
    // S1 available: A 5, B 7, C 8. 14 units: no single warehouse; split A 5 + B 7 + C 2.
    const { allocation } = await c.allocateStock({ allocationId: 'order-3', lines: [{ sku: 'S1', quantity: 14n }] });
    expect(lines(allocation)).to.deep.equal(['S1@Ax5', 'S1@Bx7', 'S1@Cx2']);
    await c.releaseAllocation({ allocationId: 'order-3' });
  });

  it('never allocates from an inactive warehouse', async () => {
    const short = await failure(c.allocateStock({ allocationId: 'order-4', lines: [{ sku: 'S4', quantity: 4n }] }));
    expect(short.code).to.equal(status.FAILED_PRECONDITION);
    expect(short.details).to.equal('not enough stock of sku "S4": requested 4, available 3');
    const named = await failure(c.allocateStock({ allocationId: 'order-4', lines: [{ sku: 'S4', quantity: 1n, warehouseCode: 'OFF' }] }));
    expect(named.code).to.equal(status.FAILED_PRECONDITION);
    expect(named.details).to.match(/not active/);
  });

  it('is all or nothing: one short line fails the whole allocation, which changes nothing', async () => {
    const before = await outboxCount();
    const s3 = await level('S3', 'A');
    const err = await failure(
      c.allocateStock({ allocationId: 'order-5', lines: [{ sku: 'S3', quantity: 1n }, { sku: 'S2', quantity: 1000n, warehouseCode: 'B' }] }),
    );
    expect(err.code).to.equal(status.FAILED_PRECONDITION);
    expect(err.details).to.equal('not enough stock of sku "S2" in warehouse "B": requested 1000, available 7');
    expect(await level('S3', 'A')).to.deep.equal(s3);
    expect(await outboxCount()).to.equal(before);
    expect((await failure(c.getAllocation({ allocationId: 'order-5' }))).code).to.equal(status.NOT_FOUND);
  });

  it('repeating AllocateStock with the same id and lines returns the existing allocation; other lines are refused', async () => {
    const before = await level('S1', 'C');
    const again = await c.allocateStock({ allocationId: 'order-1', lines: [{ sku: 'S1', quantity: 2n, warehouseCode: 'C' }] });
    expect(again.allocation).to.deep.equal((await c.getAllocation({ allocationId: 'order-1' })).allocation);
    expect(await level('S1', 'C')).to.deep.equal(before);
    const other = await failure(c.allocateStock({ allocationId: 'order-1', lines: [{ sku: 'S1', quantity: 3n, warehouseCode: 'C' }] }));
    expect(other.code).to.equal(status.FAILED_PRECONDITION);
    expect(other.details).to.match(/order-1.*exists already/);
    const withTtl = await failure(c.allocateStock({ allocationId: 'order-1', lines: [{ sku: 'S1', quantity: 2n, warehouseCode: 'C' }], ttl: { seconds: 60n, nanos: 0 } }));
    expect(withTtl.code).to.equal(status.FAILED_PRECONDITION);
  });

  it('a retry of a successful allocation succeeds even when the stock is gone since', async () => {
    await c.allocateStock({ allocationId: 'order-6', lines: [{ sku: 'S3', quantity: 100n, warehouseCode: 'A' }] });
    expect((await level('S3', 'A')).available).to.equal(0n);
    const again = await c.allocateStock({ allocationId: 'order-6', lines: [{ sku: 'S3', quantity: 100n, warehouseCode: 'A' }] });
    expect(again.allocation!.status).to.equal(AllocationStatus.ALLOCATION_STATUS_ALLOCATED);
    await c.releaseAllocation({ allocationId: 'order-6' });
  });

  it('ReleaseAllocation gives the units back; repeating it changes nothing more', async () => {
    const before = await level('S1', 'C');
    const { allocation } = await c.releaseAllocation({ allocationId: 'order-1' });
    expect(allocation).to.deep.include({ status: AllocationStatus.ALLOCATION_STATUS_RELEASED, version: 2n });
    const after = await level('S1', 'C');
    expect(after).to.deep.include({ onHand: before.onHand, allocated: before.allocated - 2n, version: before.version + 1n });
    const again = await c.releaseAllocation({ allocationId: 'order-1' });
    expect(again.allocation).to.deep.equal(allocation);
    expect(await level('S1', 'C')).to.deep.equal(after);
    const events = await eventually(async () => {
      const e = await readStream(t.table, 'allocation#order-1');
      expect(e).to.have.length(2);
      return e;
    });
    expect(events[1]).to.include({ type: 'AllocationReleased', version: 2 });
    const stock = await readStream(t.table, 'stock#S1#C');
    expect(stock.at(-1)!.data).to.deep.include({ allocationId: 'order-1', allocatedDelta: -2, cause: 'RELEASED' });
  });

  it('FulfillAllocation ships the units: on_hand and allocated both drop', async () => {
    const before = await level('S1', 'B');
    const { allocation } = await c.fulfillAllocation({ allocationId: 'order-2' });
    expect(allocation).to.deep.include({ status: AllocationStatus.ALLOCATION_STATUS_FULFILLED, version: 2n });
    expect(await level('S1', 'B')).to.deep.include({ onHand: before.onHand - 3n, allocated: before.allocated - 3n });
    expect((await c.fulfillAllocation({ allocationId: 'order-2' })).allocation).to.deep.equal(allocation);
    const { movements } = await c.listStockMovements({ sku: 'S2', warehouseCode: 'B', pageSize: 1 });
    expect(movements[0]).to.deep.include({ type: MovementType.MOVEMENT_TYPE_FULFILLMENT, onHandDelta: -3n, allocatedDelta: -3n, allocationId: 'order-2' });
  });

  it('an invalid transition is FAILED_PRECONDITION and changes nothing', async () => {
    const before = await outboxCount();
    const fulfilReleased = await failure(c.fulfillAllocation({ allocationId: 'order-1' }));
    expect(fulfilReleased.code).to.equal(status.FAILED_PRECONDITION);
    expect(fulfilReleased.details).to.equal('allocation "order-1" is RELEASED and cannot be fulfilled');
    const releaseFulfilled = await failure(c.releaseAllocation({ allocationId: 'order-2' }));
    expect(releaseFulfilled.code).to.equal(status.FAILED_PRECONDITION);
    expect((await failure(c.releaseAllocation({ allocationId: 'nope' }))).code).to.equal(status.NOT_FOUND);
    expect(await outboxCount()).to.equal(before);
  });

  it('an allocation with a ttl expires shortly after its expire_time: units back, status EXPIRED, events with cause EXPIRED', async function () {
    this.timeout(20_000);
    const { allocation } = await c.allocateStock({ allocationId: 'order-ttl', lines: [{ sku: 'S2', quantity: 4n, warehouseCode: 'C' }], ttl: { seconds: 1n, nanos: 0 } });
    expect(allocation!.expireTime!.getTime() - allocation!.createTime!.getTime()).to.equal(1000);
    expect((await level('S2', 'C')).allocated).to.equal(4n);
    const expired = await eventually(async () => {
      const a = (await c.getAllocation({ allocationId: 'order-ttl' })).allocation!;
      expect(a.status).to.equal(AllocationStatus.ALLOCATION_STATUS_EXPIRED);
      return a;
    }, 10_000);
    expect(expired.version).to.equal(2n);
    expect(expired.updateTime!.getTime()).to.be.at.least(expired.expireTime!.getTime());
    expect((await level('S2', 'C')).allocated).to.equal(0n);
    const events = await eventually(async () => {
      const e = await readStream(t.table, 'allocation#order-ttl');
      expect(e).to.have.length(2);
      return e;
    });
    expect(events[1]).to.include({ type: 'AllocationExpired' });
    const stock = await readStream(t.table, 'stock#S2#C');
    expect(stock.at(-1)!.data).to.deep.include({ allocationId: 'order-ttl', allocatedDelta: -4, cause: 'EXPIRED' });
    const { movements } = await c.listStockMovements({ sku: 'S2', warehouseCode: 'C', pageSize: 1 });
    expect(movements[0]!.type).to.equal(MovementType.MOVEMENT_TYPE_EXPIRY);
    expect((await failure(c.releaseAllocation({ allocationId: 'order-ttl' }))).code).to.equal(status.FAILED_PRECONDITION);
  });

  const longId = 'x'.repeat(129);
  const bad: Array<[string, Record<string, unknown>, status, string]> = [
    ['an empty id', { allocationId: '' }, status.INVALID_ARGUMENT, 'allocation_id'],
    ['an over-long id', { allocationId: longId }, status.INVALID_ARGUMENT, 'allocation_id'],
    ['an id with spaces', { allocationId: 'a b' }, status.INVALID_ARGUMENT, 'allocation_id'],
    ['no lines', { lines: [] }, status.INVALID_ARGUMENT, 'lines'],
    ['101 lines', { lines: Array.from({ length: 101 }, (_, i) => ({ sku: `S${i}`, quantity: 1n })) }, status.INVALID_ARGUMENT, 'lines'],
    ['a zero quantity', { lines: [{ sku: 'S1', quantity: 0n }] }, status.INVALID_ARGUMENT, 'lines[0].quantity'],
    ['a negative quantity', { lines: [{ sku: 'S1', quantity: 1n }, { sku: 'S2', quantity: -1n }] }, status.INVALID_ARGUMENT, 'lines[1].quantity'],
    ['an absurd quantity', { lines: [{ sku: 'S1', quantity: 10_000_000_000n }] }, status.INVALID_ARGUMENT, 'lines[0].quantity'],
    ['a malformed sku', { lines: [{ sku: '', quantity: 1n }] }, status.INVALID_ARGUMENT, 'lines[0].sku'],
    ['an over-long sku', { lines: [{ sku: 's'.repeat(65), quantity: 1n }] }, status.INVALID_ARGUMENT, 'lines[0].sku'],
    ['a malformed warehouse', { lines: [{ sku: 'S1', quantity: 1n, warehouseCode: 'lower' }] }, status.INVALID_ARGUMENT, 'lines[0].warehouse_code'],
    ['duplicate sku lines', { lines: [{ sku: 'S1', quantity: 1n }, { sku: 'S1', quantity: 2n }] }, status.INVALID_ARGUMENT, 'lines[1]'],
    ['duplicate sku+warehouse lines', { lines: [{ sku: 'S1', quantity: 1n, warehouseCode: 'A' }, { sku: 'S1', quantity: 2n, warehouseCode: 'A' }] }, status.INVALID_ARGUMENT, 'lines[1]'],
    ['a ttl in the past', { ttl: { seconds: -5n, nanos: 0 } }, status.INVALID_ARGUMENT, 'ttl'],
    ['a zero ttl', { ttl: { seconds: 0n, nanos: 0 } }, status.INVALID_ARGUMENT, 'ttl'],
    ['a ttl over 30 days', { ttl: { seconds: 31n * 86400n, nanos: 0 } }, status.INVALID_ARGUMENT, 'ttl'],
    ['an unknown sku', { lines: [{ sku: 'S1', quantity: 1n }, { sku: 'NOPE', quantity: 1n }] }, status.NOT_FOUND, 'lines[1].sku'],
    ['an unknown warehouse', { lines: [{ sku: 'S1', quantity: 1n, warehouseCode: 'NOPE' }] }, status.NOT_FOUND, 'lines[0].warehouse_code'],
  ];
  for (const [what, req, code, field] of bad) {
    it(`AllocateStock rejects ${what} with ${status[code]} naming ${field}, changing nothing`, async () => {
      const before = await outboxCount();
      const err = await failure(c.allocateStock({ allocationId: 'bad-input', lines: [{ sku: 'S1', quantity: 1n }], ...req }));
      expect(err.code, err.details).to.equal(code);
      expect(err.details.startsWith(`${field}:`), err.details).to.equal(true);
      expect(await outboxCount()).to.equal(before);
    });
  }

  it('an item without any stock is short, not unknown', async () => {
    const err = await failure(c.allocateStock({ allocationId: 'order-empty', lines: [{ sku: 'EMPTY', quantity: 1n }] }));
    expect(err.code).to.equal(status.FAILED_PRECONDITION);
    expect(err.details).to.equal('not enough stock of sku "EMPTY": requested 1, available 0');
  });

  it('every level agrees with its ledger, its allocations and its event stream', async () => {
    expect(await brokenInvariants(t.databaseUrl)).to.deep.equal([]);
  });
});
