import { expect } from 'chai';
import { toPayload } from '../../src/grpc/event-mapper.js';
import { allocationProjection, type AllocationReplay } from '../../src/events/projections/allocation.js';
import { ReplayError } from '../../src/events/projections/projection.js';
import { incomingProjection } from '../../src/events/projections/incoming.js';
import { stockProjection, type StockReplay } from '../../src/events/projections/stock.js';
import { warehouseProjection } from '../../src/events/projections/warehouse.js';
import { domainEventOf, EVENT_TYPES, parseStreamId } from '../../src/events/streams.js';
import type { DomainEvent, EventEnvelope } from '../../src/events/types.js';
import { FeedSignal } from '../../src/events/feed/signal.js';

let n = 0;
const at = (s: number) => new Date(Date.UTC(2026, 10, 25, 12, 0, s));
function env(streamId: string, version: number, ev: DomainEvent): EventEnvelope {
  return { eventId: `e${++n}`, streamId, version, type: ev.type, schemaVersion: 1, correlationId: 'c', occurredAt: at(version), data: ev.data };
}
const fold = <S>(apply: (s: S | undefined, e: EventEnvelope) => S, events: EventEnvelope[]): S | undefined =>
  events.reduce<S | undefined>((s, e) => apply(s, e), undefined);

const stock = (version: number, type: 'StockReceived' | 'StockAllocated' | 'StockFulfilled', d: { onHandDelta: number; allocatedDelta: number; onHand: number; allocated: number }) => {
  const base = { sku: 'SKU-1', warehouseCode: 'WH1', movementId: version * 10, ...d };
  const ev: DomainEvent =
    type === 'StockReceived'
      ? { type, data: { ...base, reference: 'po-1' } }
      : { type, data: { ...base, allocationId: 'A-1' } };
  return env('stock#SKU-1#WH1', version, ev);
};

describe('projections (unit)', () => {
  it('stock: folds deltas into on_hand/allocated and checks they add up to the stated totals', () => {
    const events = [
      stock(1, 'StockReceived', { onHandDelta: 10, allocatedDelta: 0, onHand: 10, allocated: 0 }),
      stock(2, 'StockAllocated', { onHandDelta: 0, allocatedDelta: 4, onHand: 10, allocated: 4 }),
      stock(3, 'StockFulfilled', { onHandDelta: -4, allocatedDelta: -4, onHand: 6, allocated: 0 }),
    ];
    const s = fold<StockReplay>(stockProjection.apply, events)!;
    expect(s).to.deep.equal({
      sku: 'SKU-1', warehouseCode: 'WH1', onHand: 6, allocated: 0, damaged: 0, qualityControl: 0, safetyStock: 0, lastMovementId: 30, version: 3,
      createdAt: at(1).toISOString(), updatedAt: at(3).toISOString(),
    });
    expect(stockProjection.streamIdOf(s)).to.equal('stock#SKU-1#WH1');
    const lying = stock(4, 'StockReceived', { onHandDelta: 1, allocatedDelta: 0, onHand: 9, allocated: 0 });
    expect(() => stockProjection.apply(s, lying)).to.throw(ReplayError, /says on_hand=9.*deltas give on_hand=7/);
    const oversold = stock(4, 'StockAllocated', { onHandDelta: 0, allocatedDelta: 7, onHand: 6, allocated: 7 });
    expect(() => stockProjection.apply(s, oversold)).to.throw(ReplayError, /leaves on_hand=6, allocated=7/);
  });

  it('allocation: ALLOCATED, then exactly one final status', () => {
    const created = env('allocation#A-1', 1, {
      type: 'AllocationCreated',
      data: { allocationId: 'A-1', lines: [{ sku: 'SKU-1', warehouseCode: 'WH1', quantity: 2 }], expireTime: null },
    });
    const released = env('allocation#A-1', 2, { type: 'AllocationReleased', data: { allocationId: 'A-1' } });
    const s = fold<AllocationReplay>(allocationProjection.apply, [created, released])!;
    expect(s).to.include({ status: 'RELEASED', version: 2, expireTime: null });
    const fulfilled = env('allocation#A-1', 3, { type: 'AllocationFulfilled', data: { allocationId: 'A-1' } });
    expect(() => allocationProjection.apply(s, fulfilled)).to.throw(ReplayError, /AllocationFulfilled at version 3 but the allocation is RELEASED/);
    expect(() => allocationProjection.apply(undefined, released)).to.throw(ReplayError, /before the entity was created/);
  });

  it('warehouse: an update merges only the changed fields; a second create is an error', () => {
    const created = env('warehouse#WH1', 1, { type: 'WarehouseCreated', data: { code: 'WH1', name: 'n', region: 'eu', priority: 1, active: true } });
    const updated = env('warehouse#WH1', 2, { type: 'WarehouseUpdated', data: { code: 'WH1', changes: { active: false } } });
    const s = fold(warehouseProjection.apply, [created, updated])!;
    expect(s).to.include({ name: 'n', active: false, version: 2 });
    expect(() => warehouseProjection.apply(s, { ...created, version: 3 })).to.throw(ReplayError, /exists already/);
    expect(() => warehouseProjection.apply(s, env('warehouse#WH1', 3, { type: 'ItemCreated', data: { sku: 'x', name: 'x', description: '' } }))).to.throw(
      ReplayError,
      /does not belong to a warehouse stream/,
    );
  });

  it('stream ids parse by kind and reject anything else', () => {
    expect(parseStreamId('stock#SKU-1#WH1')).to.deep.equal({ kind: 'stock', sku: 'SKU-1', warehouseCode: 'WH1' });
    expect(parseStreamId('allocation#ORDER:9')).to.deep.equal({ kind: 'allocation', allocationId: 'ORDER:9' });
    for (const bad of ['', 'item#', 'item#a#b', 'stock#SKU-1', 'warehouse#lower', 'order#1', 'snapshot#item#X']) {
      expect(parseStreamId(bad), bad).to.equal(undefined);
    }
  });

  it('stock: a state move changes only the states, and a stated total that does not add up is an error', () => {
    const received = stock(1, 'StockReceived', { onHandDelta: 10, allocatedDelta: 0, onHand: 10, allocated: 0 });
    const move = (version: number, data: Record<string, unknown>) =>
      env('stock#SKU-1#WH1', version, {
        type: 'StockStateMoved',
        data: { sku: 'SKU-1', warehouseCode: 'WH1', onHandDelta: 0, allocatedDelta: 0, onHand: 10, allocated: 0, movementId: version * 10, reason: 'r', reference: '', ...data },
      } as DomainEvent);
    const s = fold<StockReplay>(stockProjection.apply, [
      received,
      move(2, { fromState: 'available', toState: 'damaged', quantity: 4, damaged: 4, qualityControl: 0, safetyStock: 0 }),
      move(3, { fromState: 'damaged', toState: 'safetyStock', quantity: 1, damaged: 3, qualityControl: 0, safetyStock: 1 }),
    ])!;
    expect(s).to.include({ onHand: 10, damaged: 3, qualityControl: 0, safetyStock: 1, version: 3 });
    expect(() => stockProjection.apply(s, move(4, { fromState: 'damaged', toState: 'qualityControl', quantity: 1, damaged: 3, qualityControl: 1, safetyStock: 1 }))).to.throw(ReplayError, /damaged=3, but the stream gives 2/);
    expect(() => stockProjection.apply(s, move(4, { fromState: 'available', toState: 'qualityControl', quantity: 7, damaged: 3, qualityControl: 7, safetyStock: 1 }))).to.throw(ReplayError, /leaves/);
    // A snapshot from before the states reads them as 0.
    expect(stockProjection.revive({ ...s, damaged: undefined, qualityControl: undefined, safetyStock: undefined }, 'stock#SKU-1#WH1')).to.include({ damaged: 0, safetyStock: 0 });
  });

  it('incoming: recorded, received in parts up to the quantity, then closed; cancel only while open', () => {
    const id = 'incoming#SKU-1#PO-1';
    const key = { incomingId: 'PO-1', sku: 'SKU-1', warehouseCode: 'WH1' };
    const recorded = env(id, 1, { type: 'IncomingStockRecorded', data: { ...key, quantity: 5, expectedTime: at(9).toISOString(), reference: 'po' } });
    const got = (v: number, quantity: number, received: number) => env(id, v, { type: 'IncomingStockReceived', data: { ...key, quantity, received, reference: '' } });
    const s = fold(incomingProjection.apply, [recorded, got(2, 2, 2), got(3, 3, 5)])!;
    expect(s).to.include({ received: 5, status: 'RECEIVED', version: 3 });
    expect(incomingProjection.streamIdOf(s)).to.equal(id);
    expect(() => incomingProjection.apply(fold(incomingProjection.apply, [recorded])!, got(2, 6, 6))).to.throw(ReplayError);
    const open = fold(incomingProjection.apply, [recorded, got(2, 2, 2)])!;
    const cancel = (cancelled: number) => env(id, 3, { type: 'IncomingStockCancelled', data: { ...key, reason: '', cancelled } });
    expect(incomingProjection.apply(open, cancel(3))).to.include({ status: 'CANCELLED', received: 2 });
    expect(() => incomingProjection.apply(open, cancel(5))).to.throw(ReplayError);
    expect(() => incomingProjection.apply(s, cancel(0))).to.throw(ReplayError);
    expect(parseStreamId(id)).to.deep.equal({ kind: 'incoming', sku: 'SKU-1', incomingId: 'PO-1' });
    expect(parseStreamId('incoming#PO-1')).to.equal(undefined);
  });

  it('every event type of the catalog has a wire payload', () => {
    const stockData = () => ({ sku: 'S', warehouseCode: 'W', onHandDelta: 1, allocatedDelta: 0, onHand: 1, allocated: 0, movementId: 1, reference: '', reason: 'r', toWarehouseCode: 'X', fromWarehouseCode: 'Y', allocationId: 'A', cause: 'EXPIRED' });
    const samples: Record<string, unknown> = {
      WarehouseCreated: { code: 'W', name: 'n', region: 'r', priority: 1, active: true },
      WarehouseUpdated: { code: 'W', changes: {} },
      ItemCreated: { sku: 'S', name: 'n', description: '' },
      AllocationCreated: { allocationId: 'A', lines: [], expireTime: '2026-12-01T00:00:00.000Z' },
      StockStateMoved: { ...stockData(), fromState: 'available', toState: 'damaged', quantity: 1, damaged: 1, reason: 'r', reference: '' },
      IncomingStockRecorded: { incomingId: 'I', sku: 'S', warehouseCode: 'W', quantity: 2, expectedTime: '2026-12-01T00:00:00.000Z', reference: '' },
      IncomingStockReceived: { incomingId: 'I', sku: 'S', warehouseCode: 'W', quantity: 1, received: 1, reference: '' },
      IncomingStockCancelled: { incomingId: 'I', sku: 'S', warehouseCode: 'W', reason: '', cancelled: 1 },
    };
    for (const type of EVENT_TYPES) {
      const data = samples[type] ?? (type.startsWith('Stock') ? stockData() : { allocationId: 'A' });
      const payload = toPayload(domainEventOf({ eventId: 'e', streamId: 's', version: 1, type, schemaVersion: 1, correlationId: 'c', occurredAt: at(0), data: data as DomainEvent['data'] }));
      expect(payload?.$case.toLowerCase(), type).to.equal(type.toLowerCase());
    }
  });

  it('FeedSignal wakes a waiter when a newer position is known, and times out otherwise', async () => {
    const signal = new FeedSignal();
    const abort = new AbortController();
    const waiting = signal.waitBeyond(5, 10_000, abort.signal);
    signal.advance(5);
    let woke = false;
    void waiting.then(() => (woke = true));
    await new Promise((r) => setImmediate(r));
    expect(woke).to.equal(false);
    signal.advance(6);
    await waiting;
    const started = Date.now();
    await signal.waitBeyond(6, 20, abort.signal);
    expect(Date.now() - started).to.be.at.least(15);
  });
});
