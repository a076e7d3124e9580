import { expect } from 'chai';
import { AllocationStatus } from '../../src/gen/inventory/v1/allocation.js';
import { sqlOf } from '../../src/events/replay/sql.js';
import { stockStore } from '../../src/events/replay/stores/stock-store.js';
import type { EventEnvelope } from '../../src/events/types.js';
import { migrate, openOrm } from '../../src/persistence/orm.js';
import pg from 'pg';
import { startTestApp, type TestApp } from '../support/app.js';
import { eventually } from '../support/dynamo.js';
import { drained, expectClean, rebuild, sql, verify, rebuildIntoEmpty } from '../support/replay.js';
import { emptyDatabase } from '../support/stack.js';
import { brokenInvariants, seed } from '../support/stock.js';

const LEVELS: ReadonlyArray<readonly [string, string]> = [
  ['S1', 'A'],
  ['S1', 'B'],
  ['S2', 'A'],
  ['S2', 'B'],
  ['S2', 'C'],
  ['S3', 'A'],
];
const ALLOCATIONS = ['ord-split', 'ord-rel', 'ord-ful', 'ord-ttl', 'ord-open'];

describe('verify and rebuild: stock levels, the ledger and allocations (int)', () => {
  let t: TestApp;
  before(async function () {
    this.timeout(60_000);
    // Snapshots every 3 events, so replay also starts from stock and allocation snapshots.
    t = await startTestApp({ EXPIRY_SWEEP_INTERVAL_MS: '100', SNAPSHOT_EVERY: '3' });
    const c = t.client;
    await seed(c, { A: 1, B: 2, C: 3 }, ['S1', 'S2', 'S3']);
    await c.receiveStock({ sku: 'S1', warehouseCode: 'A', quantity: 5n, reference: 'PO-1', idempotencyKey: 'po-1' });
    await c.receiveStock({ sku: 'S1', warehouseCode: 'B', quantity: 10n, reference: 'PO-2' });
    await c.receiveStock({ sku: 'S2', warehouseCode: 'B', quantity: 20n });
    await c.receiveStock({ sku: 'S2', warehouseCode: 'C', quantity: 5n });
    await c.adjustStock({ sku: 'S1', warehouseCode: 'B', change: { $case: 'delta', value: -2n }, reason: 'damaged', reference: 'RMA-1' });
    await c.adjustStock({ sku: 'S2', warehouseCode: 'C', change: { $case: 'newOnHand', value: 8n }, reason: 'cycle count' });
    // A count confirming zero creates the level row (version 0) before its first event.
    await c.adjustStock({ sku: 'S3', warehouseCode: 'A', change: { $case: 'newOnHand', value: 0n }, reason: 'cycle count' });
    await c.receiveStock({ sku: 'S3', warehouseCode: 'A', quantity: 4n });
    await c.transferStock({ sku: 'S2', fromWarehouseCode: 'B', toWarehouseCode: 'A', quantity: 6n, reference: 'T-1' });
    // S1: no warehouse holds 12, so the line splits A 5 + B 7.
    const split = await c.allocateStock({ allocationId: 'ord-split', lines: [{ sku: 'S1', quantity: 12n }, { sku: 'S2', quantity: 2n }] });
    expect(split.allocation!.lines.length).to.be.greaterThan(2);
    await c.allocateStock({ allocationId: 'ord-rel', lines: [{ sku: 'S2', quantity: 3n, warehouseCode: 'C' }] });
    await c.releaseAllocation({ allocationId: 'ord-rel' });
    await c.allocateStock({ allocationId: 'ord-ful', lines: [{ sku: 'S2', quantity: 1n, warehouseCode: 'B' }] });
    await c.fulfillAllocation({ allocationId: 'ord-ful' });
    await c.allocateStock({ allocationId: 'ord-ttl', lines: [{ sku: 'S3', quantity: 2n }], ttl: { seconds: 1n, nanos: 0 } });
    await c.allocateStock({ allocationId: 'ord-open', lines: [{ sku: 'S2', quantity: 1n, warehouseCode: 'C' }] });
    await eventually(async () => {
      expect((await c.getAllocation({ allocationId: 'ord-ttl' })).allocation!.status).to.equal(AllocationStatus.ALLOCATION_STATUS_EXPIRED);
    }, 15_000);
    expect(await brokenInvariants(t.databaseUrl)).to.deep.equal([]);
    await drained(t.app);
  });
  after(() => t?.stop());

  it('verify passes after receipts, adjustments, a transfer, split allocations, release, fulfilment and expiry', async () => {
    const r = await verify(t.databaseUrl, t.table);
    expectClean(r);
    // 3 warehouses + 3 items + 6 stock levels + 5 allocations
    expect(r.streams).to.equal(17);
    expect(r.lines.at(-1)).to.match(/^verify: OK/);
  });

  it('verify names a stock level changed behind the service, and the field', async () => {
    await sql(t.databaseUrl, `update stock_level set on_hand = on_hand + 1 where sku = 'S1' and warehouse_code = 'B'`);
    try {
      const r = await verify(t.databaseUrl, t.table);
      expect(r.sample).to.deep.equal(['stock#S1#B: onHand: event store 8, PostgreSQL 9']);
      expect(r.lines).to.include('DIFF stock#S1#B: onHand: event store 8, PostgreSQL 9');
    } finally {
      await sql(t.databaseUrl, `update stock_level set on_hand = on_hand - 1 where sku = 'S1' and warehouse_code = 'B'`);
    }
  });

  it('verify names an allocation whose status was changed behind the service', async () => {
    await sql(t.databaseUrl, `update allocation set status = 'RELEASED' where allocation_id = 'ord-open'`);
    try {
      const r = await verify(t.databaseUrl, t.table);
      expect(r.sample).to.deep.equal(['allocation#ord-open: status: event store "ALLOCATED", PostgreSQL "RELEASED"']);
    } finally {
      await sql(t.databaseUrl, `update allocation set status = 'ALLOCATED' where allocation_id = 'ord-open'`);
    }
  });

  it('verify notices a missing ledger row, a changed allocation line and a level no stream explains', async () => {
    const [last] = await sql<{ id: string }>(t.databaseUrl, `select max(id)::text as id from stock_movement where sku = 'S3' and warehouse_code = 'A'`);
    const saved = await sql<Record<string, unknown>>(t.databaseUrl, `select * from stock_movement where id = $1`, [last!.id]);
    await sql(t.databaseUrl, `delete from stock_movement where id = $1`, [last!.id]);
    await sql(t.databaseUrl, `update allocation_line set quantity = quantity + 1 where allocation_id = 'ord-open'`);
    await sql(t.databaseUrl, `insert into stock_level (sku, warehouse_code, on_hand, version, created_at, updated_at) values ('S3', 'C', 7, 1, now(), now())`);
    try {
      const r = await verify(t.databaseUrl, t.table);
      expect(r.sample).to.have.members([
        `stock#S3#A: lastMovementId: event store ${last!.id}, PostgreSQL null`,
        'allocation#ord-open: lines: event store [{"sku":"S2","warehouseCode":"C","quantity":1,"fulfilled":0,"released":0,"expired":0}], PostgreSQL [{"sku":"S2","warehouseCode":"C","quantity":2,"fulfilled":0,"released":0,"expired":0}]',
        'stock#S3#C: in PostgreSQL but the event store has no event of it',
      ]);
    } finally {
      const row = saved[0]!;
      const cols = Object.keys(row);
      await sql(t.databaseUrl, `insert into stock_movement (${cols.join(', ')}) values (${cols.map((_, i) => `$${i + 1}`).join(', ')})`, Object.values(row));
      await sql(t.databaseUrl, `update allocation_line set quantity = quantity - 1 where allocation_id = 'ord-open'`);
      await sql(t.databaseUrl, `delete from stock_level where sku = 'S3' and warehouse_code = 'C'`);
    }
    expectClean(await verify(t.databaseUrl, t.table));
  });

  it('rebuild restores levels, the ledger and allocations; the service allocates from the rebuilt stock', async function () {
    this.timeout(60_000);
    const c = t.client;
    const levelsBefore = await Promise.all(LEVELS.map(([sku, warehouseCode]) => c.getStockLevel({ sku, warehouseCode })));
    const allocationsBefore = await Promise.all(ALLOCATIONS.map((allocationId) => c.getAllocation({ allocationId })));
    const ledgerBefore = await sql(t.databaseUrl, `select id, created_at, sku, warehouse_code, type, on_hand_delta, allocated_delta, reason, reference, allocation_id, stock_version from stock_movement order by id`);

    const { url, r } = await rebuildIntoEmpty(t.table);
    expect(r.streams).to.equal(17);
    expectClean(await verify(url, t.table));
    // Every ledger row, with its id, time and content; only the idempotency key is not in the events.
    const ledgerAfter = await sql(url, `select id, created_at, sku, warehouse_code, type, on_hand_delta, allocated_delta, reason, reference, allocation_id, stock_version from stock_movement order by id`);
    expect(ledgerAfter).to.deep.equal(ledgerBefore);

    const t2 = await startTestApp({}, { databaseUrl: url, table: t.table });
    try {
      const c2 = t2.client;
      expect(await Promise.all(LEVELS.map(([sku, warehouseCode]) => c2.getStockLevel({ sku, warehouseCode })))).to.deep.equal(levelsBefore);
      expect(await Promise.all(ALLOCATIONS.map((allocationId) => c2.getAllocation({ allocationId })))).to.deep.equal(allocationsBefore);
      // The allocation id is AllocateStock's idempotency key, and the request hash came back with it.
      const retry = await c2.allocateStock({ allocationId: 'ord-open', lines: [{ sku: 'S2', quantity: 1n, warehouseCode: 'C' }] });
      expect(retry.allocation).to.deep.equal(allocationsBefore[4]!.allocation);

      // S2: A 6-2=4, B 14-1=13, C 8-1=7 available.
      const { allocation } = await c2.allocateStock({ allocationId: 'ord-new', lines: [{ sku: 'S2', quantity: 20n }] });
      expect(allocation!.lines.reduce((s, l) => s + l.quantity, 0n)).to.equal(20n);
      const maxBefore = Math.max(...ledgerBefore.map((m) => Number(m.id)));
      const fresh = await sql<{ id: string }>(url, `select id::text as id from stock_movement where allocation_id = 'ord-new'`);
      for (const m of fresh) expect(Number(m.id)).to.be.greaterThan(maxBefore); // the sequence continues after the restored ids
      await c2.fulfillAllocation({ allocationId: 'ord-new' });
      expect((await c2.getAvailability({ sku: 'S2' })).available).to.equal(4n + 13n + 7n - 20n);

      // Rebuild restores state, not idempotency memory: a receipt retried with an old key applies again.
      const again = await c2.receiveStock({ sku: 'S1', warehouseCode: 'A', quantity: 5n, reference: 'PO-1', idempotencyKey: 'po-1' });
      expect(again.stockLevel!.onHand).to.equal(levelsBefore[0]!.stockLevel!.onHand + 5n);

      await drained(t2.app);
      expectClean(await verify(url, t.table));
    } finally {
      await t2.stop();
    }
  });

  it('ledger reconstruction creates the month partitions of old events and resets the id sequence', async () => {
    const url = await emptyDatabase();
    const orm = await openOrm({ url, poolMin: 0, poolMax: 2 });
    try {
      await migrate(orm);
    } finally {
      await orm.close();
    }
    const event = (version: number, at: string, movementId: number): EventEnvelope => ({
      eventId: `e${version}`,
      streamId: 'stock#S1#A',
      version,
      type: 'StockReceived',
      schemaVersion: 1,
      correlationId: 'c',
      occurredAt: new Date(at),
      data: { sku: 'S1', warehouseCode: 'A', onHandDelta: 1, allocatedDelta: 0, onHand: version, allocated: 0, movementId, reference: 'R' },
    });
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const db = sqlOf(client);
      await stockStore.insertEvents!(db, [event(1, '2025-01-31T23:59:59.999Z', 40), event(2, '2025-03-01T00:00:00.000Z', 41)]);
      await stockStore.finishRebuild!(db);
      const parts = await db.query<{ name: string }>(
        `select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid where i.inhparent = 'stock_movement'::regclass order by 1`,
      );
      expect(parts.map((p) => p.name)).to.deep.equal(['stock_movement_p202501', 'stock_movement_p202503']);
      const [next] = await db.query<{ id: string }>(`select nextval(pg_get_serial_sequence('stock_movement', 'id'))::text as id`);
      expect(next!.id).to.equal('42');
    } finally {
      await client.end();
    }
  });
});
