import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import type { InventoryServiceServer } from '../../src/gen/inventory/v1/inventory_service.js';
import { MovementType } from '../../src/gen/inventory/v1/stock.js';
import { StockState } from '../../src/gen/inventory/v1/stock_states.js';
import { failure, startTestApp, type PromiseClient, type TestApp } from '../support/app.js';
import { eventually, readStream } from '../support/dynamo.js';
import { drained, expectClean, rebuild, verify, rebuildIntoEmpty } from '../support/replay.js';
import { freshDatabase, freshTableName } from '../support/stack.js';
import { brokenInvariants, seed, sql } from '../support/stock.js';

const { STOCK_STATE_AVAILABLE: AVAILABLE, STOCK_STATE_DAMAGED: DAMAGED, STOCK_STATE_QUALITY_CONTROL: QC, STOCK_STATE_SAFETY_STOCK: SAFETY } = StockState;

describe('unavailable stock: MoveStock and the states (e2e)', () => {
  let t: TestApp;
  let c: PromiseClient<InventoryServiceServer>;
  before(async () => {
    t = await startTestApp();
    c = t.client;
    await seed(c, { BER: 1, HAM: 2 }, ['S1', 'S2', 'S3']);
  });
  after(() => t.stop());

  const move = (fromState: StockState, toState: StockState, quantity: number, extra: Record<string, unknown> = {}) =>
    c.moveStock({ sku: 'S1', warehouseCode: 'BER', fromState, toState, quantity: BigInt(quantity), reason: 'inspection', ...extra });

  it('moves units between available and the states: on_hand stays, available and unavailable follow', async () => {
    await c.receiveStock({ sku: 'S1', warehouseCode: 'BER', quantity: 20n });
    const r = await move(AVAILABLE, DAMAGED, 5, { reference: 'RMA-7' });
    expect(r.stockLevel).to.deep.include({ onHand: 20n, allocated: 0n, damaged: 5n, qualityControl: 0n, safetyStock: 0n, unavailable: 5n, available: 15n, version: 2n });
    await move(DAMAGED, QC, 3);
    await move(AVAILABLE, SAFETY, 4);
    const { stockLevel } = await c.getStockLevel({ sku: 'S1', warehouseCode: 'BER' });
    expect(stockLevel).to.deep.include({ onHand: 20n, damaged: 2n, qualityControl: 3n, safetyStock: 4n, unavailable: 9n, available: 11n, version: 4n });

    const a = await c.getAvailability({ sku: 'S1' });
    expect(a).to.deep.include({ onHand: 20n, allocated: 0n, damaged: 2n, qualityControl: 3n, safetyStock: 4n, unavailable: 9n, available: 11n, allocatable: 11n });

    const { movements } = await c.listStockMovements({ sku: 'S1', warehouseCode: 'BER', pageSize: 3 });
    expect(movements.map((m) => [m.type, m.onHandDelta, m.damagedDelta, m.qualityControlDelta, m.safetyStockDelta])).to.deep.equal([
      [MovementType.MOVEMENT_TYPE_STATE_MOVE, 0n, 0n, 0n, 4n],
      [MovementType.MOVEMENT_TYPE_STATE_MOVE, 0n, -3n, 3n, 0n],
      [MovementType.MOVEMENT_TYPE_STATE_MOVE, 0n, 5n, 0n, 0n],
    ]);
    expect(movements[2]).to.deep.include({ reason: 'inspection', reference: 'RMA-7' });

    const events = await eventually(async () => {
      const e = await readStream(t.table, 'stock#S1#BER');
      expect(e).to.have.length(4);
      return e;
    });
    expect(events[1]!.type).to.equal('StockStateMoved');
    expect(events[1]!.data).to.deep.include({ fromState: 'available', toState: 'damaged', quantity: 5, damaged: 5, onHand: 20, reason: 'inspection', reference: 'RMA-7' });
  });

  it('allocation never takes unavailable units', async () => {
    // S1@BER: 20 on hand, 9 unavailable, 11 available; HAM has none
    const short = await failure(c.allocateStock({ allocationId: 'too-much', lines: [{ sku: 'S1', quantity: 12n }] }));
    expect(short.code).to.equal(status.FAILED_PRECONDITION);
    expect(short.details).to.match(/available 11/);
    const ok = await c.allocateStock({ allocationId: 'fits', lines: [{ sku: 'S1', quantity: 11n }] });
    expect(ok.allocation!.lines).to.have.length(1);
    expect((await c.getStockLevel({ sku: 'S1', warehouseCode: 'BER' })).stockLevel).to.deep.include({ allocated: 11n, available: 0n, unavailable: 9n });
    // and nothing more may move out of available: allocated units never move
    const none = await failure(move(AVAILABLE, DAMAGED, 1));
    expect(none.code).to.equal(status.FAILED_PRECONDITION);
    expect(none.details).to.match(/out of available: it holds 0 \(allocated units, 11 of them, never move\)/);
  });

  it('refuses to shrink on_hand below allocated + unavailable, naming the parts in the way', async () => {
    const err = await failure(c.adjustStock({ sku: 'S1', warehouseCode: 'BER', change: { $case: 'newOnHand', value: 15n }, reason: 'count' }));
    expect(err.code).to.equal(status.FAILED_PRECONDITION);
    expect(err.details).to.equal('on_hand of sku "S1" in warehouse "BER" cannot drop to 15: 20 units must stay on hand (11 allocated, 2 damaged, 3 quality_control, 4 safety_stock)');
    // Without the allocation only the unavailable units are in the way.
    await c.releaseAllocation({ allocationId: 'fits' });
    const err2 = await failure(c.adjustStock({ sku: 'S1', warehouseCode: 'BER', change: { $case: 'delta', value: -12n }, reason: 'count' }));
    expect(err2.details).to.match(/cannot drop to 8: 9 units must stay on hand \(2 damaged, 3 quality_control, 4 safety_stock\)$/);
    const ok = await c.adjustStock({ sku: 'S1', warehouseCode: 'BER', change: { $case: 'delta', value: -11n }, reason: 'count' });
    expect(ok.stockLevel).to.deep.include({ onHand: 9n, available: 0n, unavailable: 9n });
  });

  it('fulfilment leaves the unavailable units on hand', async () => {
    await c.receiveStock({ sku: 'S1', warehouseCode: 'BER', quantity: 6n });
    await c.allocateStock({ allocationId: 'ship', lines: [{ sku: 'S1', quantity: 6n, warehouseCode: 'BER' }] });
    await c.fulfillAllocation({ allocationId: 'ship' });
    expect((await c.getStockLevel({ sku: 'S1', warehouseCode: 'BER' })).stockLevel).to.deep.include({ onHand: 9n, allocated: 0n, unavailable: 9n, available: 0n });
  });

  it('ListLowStock and the cache see the states', async () => {
    await c.receiveStock({ sku: 'S2', warehouseCode: 'HAM', quantity: 10n });
    expect((await c.getStockLevel({ sku: 'S2', warehouseCode: 'HAM' })).stockLevel!.available).to.equal(10n); // cached now
    expect((await c.getAvailability({ sku: 'S2' })).available).to.equal(10n); // cached now
    expect((await c.listLowStock({ threshold: 5n, warehouseCode: 'HAM' })).levels).to.have.length(0);
    await c.moveStock({ sku: 'S2', warehouseCode: 'HAM', fromState: AVAILABLE, toState: SAFETY, quantity: 7n, reason: 'floor' });
    expect((await c.getStockLevel({ sku: 'S2', warehouseCode: 'HAM' })).stockLevel).to.deep.include({ available: 3n, safetyStock: 7n });
    expect((await c.getAvailability({ sku: 'S2' })).available).to.equal(3n);
    const low = await c.listLowStock({ threshold: 5n, warehouseCode: 'HAM' });
    expect(low.levels.map((l) => [l.sku, l.available, l.safetyStock])).to.deep.equal([['S2', 3n, 7n]]);
  });

  it('idempotency key, expected_version and bad input', async () => {
    const key = { idempotencyKey: 'move-1' };
    const first = await move(QC, AVAILABLE, 1, key);
    const again = await move(QC, AVAILABLE, 1, key);
    expect(again.stockLevel).to.deep.equal(first.stockLevel);
    expect((await failure(move(QC, AVAILABLE, 2, key))).code).to.equal(status.FAILED_PRECONDITION);
    const stale = await failure(move(QC, AVAILABLE, 1, { expectedVersion: first.stockLevel!.version - 1n }));
    expect(stale.code).to.equal(status.ABORTED);
    const fresh = await move(QC, AVAILABLE, 1, { expectedVersion: first.stockLevel!.version });
    expect(fresh.stockLevel!.version).to.equal(first.stockLevel!.version + 1n);

    const before = await sql(t.databaseUrl, 'select count(*)::int as n from event_outbox');
    const cases: Array<[() => Promise<unknown>, status, RegExp]> = [
      [() => move(StockState.STOCK_STATE_UNSPECIFIED, DAMAGED, 1), status.INVALID_ARGUMENT, /^from_state:/],
      [() => move(DAMAGED, 99 as StockState, 1), status.INVALID_ARGUMENT, /^to_state:/],
      [() => move(DAMAGED, DAMAGED, 1), status.INVALID_ARGUMENT, /^to_state: must differ/],
      [() => move(DAMAGED, QC, 0), status.INVALID_ARGUMENT, /^quantity:/],
      [() => move(DAMAGED, QC, 1, { reason: '' }), status.INVALID_ARGUMENT, /^reason:/],
      [() => move(DAMAGED, QC, 1, { sku: 'NOPE' }), status.NOT_FOUND, /^sku:/],
      [() => move(DAMAGED, QC, 1, { warehouseCode: 'NOPE' }), status.NOT_FOUND, /^warehouse_code:/],
      [() => move(DAMAGED, QC, 100), status.FAILED_PRECONDITION, /out of damaged: it holds 2$/],
    ];
    for (const [call, code, message] of cases) {
      const e = await failure(call());
      expect([status[e.code], e.details]).to.satisfy(([n, d]: [string, string]) => n === status[code] && message.test(d), `${status[e.code]} ${e.details}`);
    }
    expect(await sql(t.databaseUrl, 'select count(*)::int as n from event_outbox')).to.deep.equal(before);
  });

  it('the database refuses a bad sum even when the service is bypassed', async () => {
    const bad: Array<[string, RegExp]> = [
      [`update stock_level set damaged = on_hand + 1 where sku = 'S1' and warehouse_code = 'BER'`, /stock_level_held_le_on_hand_check/],
      [`update stock_level set quality_control = -1 where sku = 'S1' and warehouse_code = 'BER'`, /stock_level_quality_control_check/],
      [`update stock_level set allocated = 1, safety_stock = on_hand where sku = 'S2' and warehouse_code = 'HAM'`, /stock_level_held_le_on_hand_check/],
    ];
    for (const [statement, constraint] of bad) {
      const err = await sql(t.databaseUrl, statement).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err?.message, statement).to.match(constraint);
    }
  });

  it('keeps the ledger, the events and verify in agreement; rebuild reproduces the states and the ledger', async function () {
    this.timeout(60_000);
    expect(await brokenInvariants(t.databaseUrl)).to.deep.equal([]);
    await drained(t.app);
    expectClean(await verify(t.databaseUrl, t.table));

    const levels = `select sku, warehouse_code, on_hand, allocated, damaged, quality_control, safety_stock, version, updated_at from stock_level where version > 0 order by 1, 2`;
    const ledger = `select id, created_at, sku, warehouse_code, type, on_hand_delta, allocated_delta, damaged_delta, quality_control_delta,
                           safety_stock_delta, reason, reference, allocation_id, stock_version from stock_movement order by id`;
    const { url } = await rebuildIntoEmpty(t.table);
    expect(await sql(url, levels)).to.deep.equal(await sql(t.databaseUrl, levels));
    expect(await sql(url, ledger)).to.deep.equal(await sql(t.databaseUrl, ledger));
    expectClean(await verify(url, t.table));
  });
});

describe('unavailable stock under concurrency, two instances (e2e)', () => {
  let url: string;
  let apps: TestApp[];
  before(async function () {
    this.timeout(60_000);
    url = await freshDatabase();
    const table = freshTableName(); // one event table for both instances, so verify sees every event
    apps = [await startTestApp({}, { databaseUrl: url, table }), await startTestApp({}, { databaseUrl: url, table })];
    await seed(apps[0]!.client, { W1: 1, W2: 2 }, ['P1', 'P2']);
  });
  after(async () => {
    for (const a of apps ?? []) await a.stop();
  });

  it('every unit is either allocated or moved, never both: concurrent allocations and moves out of available', async function () {
    this.timeout(60_000);
    const [a, b] = [apps[0]!.client, apps[1]!.client];
    await a.receiveStock({ sku: 'P1', warehouseCode: 'W1', quantity: 30n });
    const tries = Array.from({ length: 40 }, (_, i) => i);
    const outcomes = await Promise.all(
      tries.flatMap((i) => [
        (i % 2 ? a : b).allocateStock({ allocationId: `o-${i}`, lines: [{ sku: 'P1', quantity: 1n, warehouseCode: 'W1' }] }).then(
          () => 'allocated',
          (e: { code: status }) => (e.code === status.FAILED_PRECONDITION ? 'short' : `unexpected ${e.code}`),
        ),
        (i % 2 ? b : a)
          .moveStock({ sku: 'P1', warehouseCode: 'W1', fromState: AVAILABLE, toState: i % 3 === 0 ? QC : DAMAGED, quantity: 1n, reason: 'check' })
          .then(
            () => 'moved',
            (e: { code: status }) => (e.code === status.FAILED_PRECONDITION ? 'short' : `unexpected ${e.code}`),
          ),
      ]),
    );
    expect(outcomes.filter((o) => o.startsWith('unexpected'))).to.deep.equal([]);
    const allocated = outcomes.filter((o) => o === 'allocated').length;
    const moved = outcomes.filter((o) => o === 'moved').length;
    expect(allocated + moved).to.equal(30);
    const { stockLevel } = await a.getStockLevel({ sku: 'P1', warehouseCode: 'W1', consistent: true });
    expect(stockLevel).to.deep.include({ onHand: 30n, allocated: BigInt(allocated), unavailable: BigInt(moved), available: 0n });
  });

  it('a randomized mix of moves, receipts, counts, allocations and fulfilments keeps every sum; verify passes', async function () {
    this.timeout(120_000);
    const clients = apps.map((x) => x.client);
    for (const sku of ['P1', 'P2']) for (const w of ['W1', 'W2']) await clients[0]!.receiveStock({ sku, warehouseCode: w, quantity: 40n });
    const states = [AVAILABLE, DAMAGED, QC, SAFETY];
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const unexpected: string[] = [];
    let next = 0;
    const one = async (i: number) => {
      const c = pick(clients);
      const sku = pick(['P1', 'P2']);
      const warehouseCode = pick(['W1', 'W2']);
      const k = rnd();
      try {
        if (k < 0.45) {
          const fromState = pick(states);
          const toState = pick(states.filter((s) => s !== fromState));
          await c.moveStock({ sku, warehouseCode, fromState, toState, quantity: BigInt(1 + Math.floor(rnd() * 6)), reason: 'mix' });
        } else if (k < 0.55) {
          await c.receiveStock({ sku, warehouseCode, quantity: BigInt(1 + Math.floor(rnd() * 5)) });
        } else if (k < 0.65) {
          await c.adjustStock({ sku, warehouseCode, change: { $case: 'delta', value: BigInt(pick([-9, -4, -1, 3])) }, reason: 'count' });
        } else if (k < 0.9) {
          await c.allocateStock({ allocationId: `mix-${i}`, lines: [{ sku, quantity: BigInt(1 + Math.floor(rnd() * 8)) }] });
        } else if (i > 0) {
          const id = `mix-${Math.floor(rnd() * i)}`;
          await (rnd() < 0.5 ? c.fulfillAllocation({ allocationId: id }) : c.releaseAllocation({ allocationId: id }));
        }
      } catch (err) {
        const e = err as { code: status; details: string };
        if (e.code !== status.FAILED_PRECONDITION && e.code !== status.NOT_FOUND) unexpected.push(`${status[e.code]}: ${e.details}`);
      }
    };
    await Promise.all(
      Array.from({ length: 12 }, async () => {
        while (next < 300) await one(next++);
      }),
    );
    expect(unexpected).to.deep.equal([]);
    expect(await brokenInvariants(url)).to.deep.equal([]);
    const moves = await sql<{ n: number }>(url, `select count(*)::int as n from stock_movement where type = 'STATE_MOVE'`);
    expect(moves[0]!.n).to.be.greaterThan(30);
    for (const x of apps) await drained(x.app);
    expectClean(await verify(url, apps[0]!.table));
  });
});
