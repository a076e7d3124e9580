import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { AllocationStatus, type Allocation } from '../../src/gen/inventory/v1/allocation.js';
import type { InventoryServiceServer } from '../../src/gen/inventory/v1/inventory_service.js';
import { MovementType } from '../../src/gen/inventory/v1/stock.js';
import { failure, startTestApp, type PromiseClient, type TestApp } from '../support/app.js';
import { eventually, readStream } from '../support/dynamo.js';
import { drained, expectClean, rebuild, verify, rebuildIntoEmpty } from '../support/replay.js';
import { brokenInvariants, seed, sql } from '../support/stock.js';

const S = AllocationStatus;

/** Lines as `sku@warehouse quantity/fulfilled/released/expired/held`. */
const settled = (a: Allocation | undefined) =>
  a!.lines.map((l) => `${l.sku}@${l.warehouseCode} ${l.quantity}/${l.fulfilledQuantity}/${l.releasedQuantity}/${l.expiredQuantity}/${l.heldQuantity}`);

describe('allocations: partial fulfilment and release, then expiry of the rest (e2e)', () => {
  let t: TestApp;
  let c: PromiseClient<InventoryServiceServer>;
  before(async function () {
    this.timeout(60_000);
    t = await startTestApp({ EXPIRY_SWEEP_INTERVAL_MS: '100' });
    c = t.client;
    await seed(c, { A: 1, B: 2 }, ['P1', 'P2', 'P3']);
    await c.receiveStock({ sku: 'P1', warehouseCode: 'A', quantity: 10n });
    await c.receiveStock({ sku: 'P1', warehouseCode: 'B', quantity: 10n });
    await c.receiveStock({ sku: 'P2', warehouseCode: 'A', quantity: 5n });
    await c.receiveStock({ sku: 'P3', warehouseCode: 'B', quantity: 50n });
  });
  after(() => t?.stop());

  const level = async (sku: string, warehouseCode: string) => (await c.getStockLevel({ sku, warehouseCode, consistent: true })).stockLevel!;
  const outboxCount = async () => Number((await sql<{ n: string }>(t.databaseUrl, 'select count(*) as n from event_outbox'))[0]!.n);
  const allocationEvents = async (id: string) =>
    (await sql<{ type: string; payload: Record<string, unknown> }>(t.databaseUrl, `select type, payload from event_outbox where stream_id = $1 order by version`, [`allocation#${id}`]));
  const checkedClean = async () => {
    expect(await brokenInvariants(t.databaseUrl)).to.deep.equal([]);
    await drained(t.app);
    expectClean(await verify(t.databaseUrl, t.table));
  };

  it('ships part, releases part, and the expiry takes back only what is still held; verify passes after each step', async function () {
    this.timeout(60_000);
    // P1: 15 split A 10 + B 5 (no warehouse holds 15); P2 3 from A.
    const created = (await c.allocateStock({ allocationId: 'ord-1', lines: [{ sku: 'P1', quantity: 15n }, { sku: 'P2', quantity: 3n }] })).allocation;
    expect(settled(created)).to.deep.equal(['P1@A 10/0/0/0/10', 'P1@B 5/0/0/0/5', 'P2@A 3/0/0/0/3']);
    await checkedClean();

    // First shipment: 4 of P1 from A, 1 of P2 (its only warehouse need not be named).
    const ship = { allocationId: 'ord-1', lines: [{ sku: 'P1', warehouseCode: 'A', quantity: 4n }, { sku: 'P2', warehouseCode: '', quantity: 1n }], idempotencyKey: 'ship-1' };
    const shipped = (await c.fulfillAllocation(ship)).allocation!;
    expect(shipped).to.deep.include({ status: S.ALLOCATION_STATUS_PARTIALLY_FULFILLED, version: 2n });
    expect(settled(shipped)).to.deep.equal(['P1@A 10/4/0/0/6', 'P1@B 5/0/0/0/5', 'P2@A 3/1/0/0/2']);
    expect(await level('P1', 'A')).to.deep.include({ onHand: 6n, allocated: 6n, available: 0n });
    expect(await level('P2', 'A')).to.deep.include({ onHand: 4n, allocated: 2n, available: 2n });
    const { movements } = await c.listStockMovements({ sku: 'P1', warehouseCode: 'A', pageSize: 1 });
    expect(movements[0]).to.deep.include({ type: MovementType.MOVEMENT_TYPE_FULFILLMENT, onHandDelta: -4n, allocatedDelta: -4n, allocationId: 'ord-1', idempotencyKey: 'ship-1' });
    await checkedClean();

    // The same key again: the first result, nothing shipped twice; with other lines: refused.
    const events = await outboxCount();
    expect((await c.fulfillAllocation(ship)).allocation).to.deep.equal(shipped);
    expect(await level('P1', 'A')).to.deep.include({ onHand: 6n, allocated: 6n });
    const mismatch = await failure(c.fulfillAllocation({ ...ship, lines: [{ sku: 'P1', warehouseCode: 'A', quantity: 5n }] }));
    expect(mismatch.code).to.equal(status.FAILED_PRECONDITION);
    expect(mismatch.details).to.match(/idempotency_key "ship-1" was already used/);
    expect(await outboxCount()).to.equal(events);

    // Part of the rest is cancelled: 2 of P1 in B go back.
    const released = (await c.releaseAllocation({ allocationId: 'ord-1', lines: [{ sku: 'P1', warehouseCode: 'B', quantity: 2n }], idempotencyKey: 'cancel-1' })).allocation!;
    expect(released).to.deep.include({ status: S.ALLOCATION_STATUS_PARTIALLY_FULFILLED, version: 3n });
    expect(settled(released)).to.deep.equal(['P1@A 10/4/0/0/6', 'P1@B 5/0/2/0/3', 'P2@A 3/1/0/0/2']);
    expect(await level('P1', 'B')).to.deep.include({ onHand: 10n, allocated: 3n, available: 7n });
    await checkedClean();

    // A short hold on the rest: the sweeper gives back only the 11 units still held.
    const extended = (await c.extendAllocation({ allocationId: 'ord-1', expiry: { $case: 'ttl', value: { seconds: 1n, nanos: 0 } }, expectedVersion: 3n })).allocation!;
    expect(extended.version).to.equal(4n);
    expect(extended.expireTime).to.be.instanceOf(Date);
    const expired = await eventually(async () => {
      const a = (await c.getAllocation({ allocationId: 'ord-1' })).allocation!;
      expect(a.version).to.equal(5n);
      return a;
    }, 15_000);
    // Something shipped, so the order ends FULFILLED; its lines tell the split.
    expect(expired.status).to.equal(S.ALLOCATION_STATUS_FULFILLED);
    expect(settled(expired)).to.deep.equal(['P1@A 10/4/0/6/0', 'P1@B 5/0/2/3/0', 'P2@A 3/1/0/2/0']);
    expect(await level('P1', 'A')).to.deep.include({ onHand: 6n, allocated: 0n, available: 6n });
    expect(await level('P1', 'B')).to.deep.include({ onHand: 10n, allocated: 0n, available: 10n });
    expect(await level('P2', 'A')).to.deep.include({ onHand: 4n, allocated: 0n, available: 4n });
    const history = await allocationEvents('ord-1');
    expect(history.map((e) => e.type)).to.deep.equal(['AllocationCreated', 'AllocationLinesFulfilled', 'AllocationLinesReleased', 'AllocationExtended', 'AllocationExpired']);
    expect(history[4]!.payload).to.deep.equal({
      allocationId: 'ord-1',
      lines: [
        { sku: 'P1', warehouseCode: 'A', quantity: 6 },
        { sku: 'P1', warehouseCode: 'B', quantity: 3 },
        { sku: 'P2', warehouseCode: 'A', quantity: 2 },
      ],
      status: 'FULFILLED',
    });
    await checkedClean();
    // The event store holds the same history, in order.
    const stored = await eventually(async () => {
      const e = await readStream(t.table, 'allocation#ord-1');
      expect(e).to.have.length(5);
      return e;
    });
    expect(stored.map((e) => e.type)).to.deep.equal(history.map((e) => e.type));
  });

  it('the whole-allocation calls settle what is still held and repeat as before', async () => {
    await c.allocateStock({ allocationId: 'ord-2', lines: [{ sku: 'P3', quantity: 10n }] });
    await c.fulfillAllocation({ allocationId: 'ord-2', lines: [{ sku: 'P3', warehouseCode: '', quantity: 3n }], idempotencyKey: 'ord-2-ship' });
    // Cancelling the rest of a partly shipped order: 7 back, the order is FULFILLED (short).
    const rest = (await c.releaseAllocation({ allocationId: 'ord-2' })).allocation!;
    expect(rest).to.deep.include({ status: S.ALLOCATION_STATUS_FULFILLED, version: 3n });
    expect(settled(rest)).to.deep.equal(['P3@B 10/3/7/0/0']);
    expect((await c.releaseAllocation({ allocationId: 'ord-2' })).allocation).to.deep.equal(rest);
    expect((await c.fulfillAllocation({ allocationId: 'ord-2' })).allocation).to.deep.equal(rest);
    expect((await allocationEvents('ord-2')).map((e) => e.type)).to.deep.equal(['AllocationCreated', 'AllocationLinesFulfilled', 'AllocationReleased']);

    // Released in parts to nothing: RELEASED, and a fulfilment is refused as it was.
    await c.allocateStock({ allocationId: 'ord-3', lines: [{ sku: 'P3', quantity: 4n }] });
    await c.releaseAllocation({ allocationId: 'ord-3', lines: [{ sku: 'P3', warehouseCode: 'B', quantity: 1n }], idempotencyKey: 'r1' });
    const gone = (await c.releaseAllocation({ allocationId: 'ord-3', lines: [{ sku: 'P3', warehouseCode: 'B', quantity: 3n }], idempotencyKey: 'r2' })).allocation!;
    expect(gone.status).to.equal(S.ALLOCATION_STATUS_RELEASED);
    expect((await c.releaseAllocation({ allocationId: 'ord-3' })).allocation).to.deep.equal(gone);
    const ship = await failure(c.fulfillAllocation({ allocationId: 'ord-3' }));
    expect(ship.code).to.equal(status.FAILED_PRECONDITION);
    expect(ship.details).to.equal('allocation "ord-3" is RELEASED and cannot be fulfilled');
    const partial = await failure(c.fulfillAllocation({ allocationId: 'ord-3', lines: [{ sku: 'P3', warehouseCode: 'B', quantity: 1n }], idempotencyKey: 'late' }));
    expect(partial.code).to.equal(status.FAILED_PRECONDITION);
    expect(partial.details).to.equal('allocation "ord-3" is RELEASED and holds nothing to fulfil');

    // Untouched allocations behave exactly as before partial fulfilment.
    await c.allocateStock({ allocationId: 'ord-4', lines: [{ sku: 'P3', quantity: 2n }] });
    const whole = (await c.fulfillAllocation({ allocationId: 'ord-4' })).allocation!;
    expect(whole).to.deep.include({ status: S.ALLOCATION_STATUS_FULFILLED, version: 2n });
    expect(settled(whole)).to.deep.equal(['P3@B 2/2/0/0/0']);
    const refused = await failure(c.releaseAllocation({ allocationId: 'ord-4' }));
    expect(refused.details).to.equal('allocation "ord-4" is FULFILLED and cannot be released');
    expect(await level('P3', 'B')).to.deep.include({ onHand: 45n, allocated: 0n });
    await checkedClean();
  });

  describe('bad input is refused naming the field, and changes nothing', () => {
    before(async () => {
      // Q1 split over A (10) and B (2), held in two warehouses.
      await seed(c, {}, ['Q1']);
      await c.receiveStock({ sku: 'Q1', warehouseCode: 'A', quantity: 10n });
      await c.receiveStock({ sku: 'Q1', warehouseCode: 'B', quantity: 10n });
      await c.allocateStock({ allocationId: 'ord-bad', lines: [{ sku: 'Q1', quantity: 12n, warehouseCode: '' }] });
    });
    const line = (sku: string, warehouseCode: string, quantity: bigint) => ({ sku, warehouseCode, quantity });
    const cases: Array<[string, Record<string, unknown>, number, string]> = [
      ['lines without an idempotency key', { lines: [line('Q1', 'A', 1n)] }, status.INVALID_ARGUMENT, 'idempotency_key: is required when lines are set'],
      ['a zero quantity', { lines: [line('Q1', 'A', 0n)], idempotencyKey: 'k' }, status.INVALID_ARGUMENT, 'lines[0].quantity:'],
      ['a repeated line', { lines: [line('Q1', 'A', 1n), line('Q1', 'A', 1n)], idempotencyKey: 'k' }, status.INVALID_ARGUMENT, 'lines[1]: repeats'],
      ['a sku held in two warehouses without one named', { lines: [line('Q1', '', 1n)], idempotencyKey: 'k' }, status.INVALID_ARGUMENT, 'lines[0].warehouse_code: allocation "ord-bad" holds sku "Q1" in warehouses A, B; name one'],
      ['a line the allocation does not have', { lines: [line('P3', 'B', 1n)], idempotencyKey: 'k' }, status.NOT_FOUND, 'lines[0]: allocation "ord-bad" has no line of sku "P3" in warehouse "B"'],
      ['more units than the line holds', { lines: [line('Q1', 'B', 3n)], idempotencyKey: 'k' }, status.FAILED_PRECONDITION, 'lines[0]: allocation "ord-bad" holds 2 of sku "Q1" in warehouse "B"; cannot fulfil 3'],
      ['a malformed key', { lines: [line('Q1', 'A', 1n)], idempotencyKey: 'has space' }, status.INVALID_ARGUMENT, 'idempotency_key:'],
      ['101 lines', { lines: Array.from({ length: 101 }, (_, i) => line(`X${i}`, 'A', 1n)), idempotencyKey: 'k' }, status.INVALID_ARGUMENT, 'lines: at most 100'],
    ];
    for (const [what, request, code, message] of cases) {
      it(`FulfillAllocation refuses ${what}`, async () => {
        const events = await outboxCount();
        const before = (await c.getAllocation({ allocationId: 'ord-bad' })).allocation;
        const err = await failure(c.fulfillAllocation({ allocationId: 'ord-bad', ...request }));
        expect(err.code, err.details).to.equal(code);
        expect(err.details).to.contain(message);
        expect((await c.getAllocation({ allocationId: 'ord-bad' })).allocation).to.deep.equal(before);
        expect(await outboxCount()).to.equal(events);
      });
    }

    it('ReleaseAllocation words its refusals for a release', async () => {
      const err = await failure(c.releaseAllocation({ allocationId: 'ord-bad', lines: [line('Q1', 'B', 5n)], idempotencyKey: 'k' }));
      expect(err.code).to.equal(status.FAILED_PRECONDITION);
      expect(err.details).to.equal('lines[0]: allocation "ord-bad" holds 2 of sku "Q1" in warehouse "B"; cannot release 5');
    });

    const extendCases: Array<[string, Record<string, unknown>, number, string]> = [
      ['no expiry choice', {}, status.INVALID_ARGUMENT, 'expire_time: set exactly one of expire_time, ttl or no_expiry'],
      ['an expire_time in the past', { expiry: { $case: 'expireTime', value: new Date(Date.now() - 60_000) } }, status.INVALID_ARGUMENT, 'expire_time: must be after now'],
      ['an expire_time beyond 30 days', { expiry: { $case: 'expireTime', value: new Date(Date.now() + 31 * 86_400_000) } }, status.INVALID_ARGUMENT, 'expire_time: must be at most 30 days from now'],
      ['a zero ttl', { expiry: { $case: 'ttl', value: { seconds: 0n, nanos: 0 } } }, status.INVALID_ARGUMENT, 'ttl:'],
      ['no_expiry false', { expiry: { $case: 'noExpiry', value: false } }, status.INVALID_ARGUMENT, 'no_expiry: must be true'],
      ['a stale expected_version', { expiry: { $case: 'noExpiry', value: true }, expectedVersion: 7n }, status.ABORTED, 'allocation "ord-bad" is at version 1, not the expected 7'],
      ['an expected_version of 0', { expiry: { $case: 'noExpiry', value: true }, expectedVersion: 0n }, status.INVALID_ARGUMENT, 'expected_version:'],
      ['an unknown allocation', { allocationId: 'nope', expiry: { $case: 'noExpiry', value: true } }, status.NOT_FOUND, 'allocation "nope" not found'],
      ['a final allocation', { allocationId: 'ord-4', expiry: { $case: 'noExpiry', value: true } }, status.FAILED_PRECONDITION, 'allocation "ord-4" is FULFILLED and holds nothing; its expire_time cannot change'],
    ];
    for (const [what, request, code, message] of extendCases) {
      it(`ExtendAllocation refuses ${what}`, async () => {
        const events = await outboxCount();
        const before = (await c.getAllocation({ allocationId: 'ord-bad' })).allocation;
        const err = await failure(c.extendAllocation({ allocationId: 'ord-bad', ...request }));
        expect(err.code, err.details).to.equal(code);
        expect(err.details).to.contain(message);
        expect((await c.getAllocation({ allocationId: 'ord-bad' })).allocation).to.deep.equal(before);
        expect(await outboxCount()).to.equal(events);
      });
    }
  });

  it('rebuild reproduces partly fulfilled, released, expired and extended allocations exactly', async function () {
    this.timeout(90_000);
    // One allocation left open mid-way, with a hold extended to no expiry.
    await c.allocateStock({ allocationId: 'ord-open', lines: [{ sku: 'P3', quantity: 6n }], ttl: { seconds: 3600n, nanos: 0 } });
    await c.fulfillAllocation({ allocationId: 'ord-open', lines: [{ sku: 'P3', warehouseCode: 'B', quantity: 2n }], idempotencyKey: 'open-ship' });
    await c.extendAllocation({ allocationId: 'ord-open', expiry: { $case: 'noExpiry', value: true } });
    await checkedClean();
    const ids = ['ord-1', 'ord-2', 'ord-3', 'ord-4', 'ord-open'];
    const before = await Promise.all(ids.map((allocationId) => c.getAllocation({ allocationId })));
    const levels = [['P1', 'A'], ['P1', 'B'], ['P2', 'A'], ['P3', 'B']] as const;
    const levelsBefore = await Promise.all(levels.map(([sku, warehouseCode]) => c.getStockLevel({ sku, warehouseCode, consistent: true })));

    const { url } = await rebuildIntoEmpty(t.table);
    expectClean(await verify(url, t.table));
    const t2 = await startTestApp({}, { databaseUrl: url, table: t.table });
    try {
      const c2 = t2.client;
      expect(await Promise.all(ids.map((allocationId) => c2.getAllocation({ allocationId })))).to.deep.equal(before);
      expect(await Promise.all(levels.map(([sku, warehouseCode]) => c2.getStockLevel({ sku, warehouseCode, consistent: true })))).to.deep.equal(levelsBefore);
      // The rebuilt allocation goes on where it stood: ship the rest.
      const rest = (await c2.fulfillAllocation({ allocationId: 'ord-open' })).allocation!;
      expect(rest.status).to.equal(S.ALLOCATION_STATUS_FULFILLED);
      expect(settled(rest)).to.deep.equal(['P3@B 6/6/0/0/0']);
      await drained(t2.app);
      expectClean(await verify(url, t.table));
    } finally {
      await t2.stop();
    }
  });
});
