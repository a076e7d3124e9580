import { status, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import type { InventoryServiceServer } from '../../src/gen/inventory/v1/inventory_service.js';
import { startTestApp, type PromiseClient, type TestApp } from '../support/app.js';
import { eventually } from '../support/dynamo.js';
import { freshDatabase } from '../support/stack.js';
import { brokenInvariants, seed, sql } from '../support/stock.js';
import { mulberry32 } from '../support/random.js';


describe('stock invariants under a randomized concurrent mix, two instances (e2e)', () => {
  const SEED = Number(process.env.INVARIANT_SEED ?? Date.now() % 100_000);
  const WAREHOUSES = ['W1', 'W2', 'W3'];
  const SKUS = ['P1', 'P2', 'P3', 'P4'];
  let url: string;
  let apps: TestApp[];
  let clients: Array<PromiseClient<InventoryServiceServer>>;
  before(async function () {
    this.timeout(60_000);
    url = await freshDatabase();
    apps = [];
    for (let i = 0; i < 2; i++) apps.push(await startTestApp({ EXPIRY_SWEEP_INTERVAL_MS: '50' }, { databaseUrl: url }));
    clients = apps.map((a) => a.client);
    await seed(clients[0]!, { W1: 1, W2: 2, W3: 3 }, SKUS);
  });
  after(async () => {
    for (const a of apps) await a.stop();
  });

  it('keeps every level equal to its ledger and allocations, and rejected calls change nothing', async function () {
    this.timeout(120_000);
    const rnd = mulberry32(SEED);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
    const c0 = clients[0]!;
    for (const sku of SKUS) for (const w of WAREHOUSES) await c0.receiveStock({ sku, warehouseCode: w, quantity: 20n });
    const seedReceipts = SKUS.length * WAREHOUSES.length;

    const receiptKeys = new Set<string>();
    const allocationIds: string[] = [];
    const okAllocations = new Set<string>();
    let adjusts = 0;
    let transfers = 0;
    const unexpected: string[] = [];
    let nextOp = 0;
    const OPS = 240;

    const one = async (i: number): Promise<void> => {
      const c = pick(clients);
      const sku = pick(SKUS);
      const kind = rnd();
      try {
        if (kind < 0.15) {
          // Receipts, some of them retried with the same key.
          const key = rnd() < 0.3 && receiptKeys.size > 0 ? `rcpt-${int(0, i)}` : `rcpt-${i}`;
          const req = { sku: 'P1', warehouseCode: 'W1', quantity: 5n, idempotencyKey: key };
          const r = await c.receiveStock(key === `rcpt-${i}` ? { ...req, sku, warehouseCode: pick(WAREHOUSES), quantity: BigInt(int(1, 20)) } : req);
          if (r.stockLevel) receiptKeys.add(key);
        } else if (kind < 0.25) {
          await c.adjustStock({ sku, warehouseCode: pick(WAREHOUSES), change: { $case: 'delta', value: BigInt(pick([-8, -3, -1, 2, 6])) }, reason: 'count' });
          adjusts++;
        } else if (kind < 0.35) {
          const [from, to] = [pick(WAREHOUSES), pick(WAREHOUSES)];
          if (from === to) return;
          await c.transferStock({ sku, fromWarehouseCode: from, toWarehouseCode: to, quantity: BigInt(int(1, 10)) });
          transfers++;
        } else if (kind < 0.75) {
          const retry = rnd() < 0.1 && allocationIds.length > 0;
          const id = retry ? pick(allocationIds) : `alloc-${i}`;
          const skus = [...new Set([sku, pick(SKUS), pick(SKUS)].slice(0, int(1, 3)))];
          const lines = skus.map((s) => ({ sku: s, quantity: BigInt(int(1, 6)), warehouseCode: rnd() < 0.4 ? pick(WAREHOUSES) : '' }));
          if (!retry) allocationIds.push(id);
          const r = await c.allocateStock({ allocationId: id, lines, ...(rnd() < 0.25 ? { ttl: { seconds: 1n, nanos: 0 } } : {}) });
          okAllocations.add(r.allocation!.allocationId);
        } else if (allocationIds.length > 0) {
          const id = pick(allocationIds);
          if (rnd() < 0.5) await c.releaseAllocation({ allocationId: id });
          else await c.fulfillAllocation({ allocationId: id });
        }
      } catch (err) {
        const e = err as ServiceError;
        // Short stock, bad transitions and id clashes are expected; nothing else is.
        if (e.code !== status.FAILED_PRECONDITION && !(e.code === status.NOT_FOUND && /allocation/.test(e.details))) {
          unexpected.push(`${status[e.code]}: ${e.details}`);
        }
      }
    };
    const started = Date.now();
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (nextOp < OPS) await one(nextOp++);
      }),
    );
    if (process.env.INVARIANT_TIMING) {
      console.log(`ops done in ${Date.now() - started} ms`, await sql(url, `select deadlocks, xact_rollback, xact_commit from pg_stat_database where datname = current_database()`));
    }
    expect(unexpected, `seed ${SEED}`).to.deep.equal([]);

    // Let the sweepers expire what is due.
    await eventually(async () => {
      const due = await sql<{ n: string }>(url, `select count(*) as n from allocation where status = 'ALLOCATED' and expire_time is not null`);
      expect(due[0]!.n).to.equal('0');
    }, 15_000);

    expect(await brokenInvariants(url), `seed ${SEED}`).to.deep.equal([]);
    // Exactly the successful allocations exist: a rejected AllocateStock left nothing behind.
    const stored = await sql<{ allocation_id: string; status: string; version: number; lines: string }>(
      url,
      `select a.allocation_id, a.status, a.version, (select count(*) from allocation_line l where l.allocation_id = a.allocation_id) as lines from allocation a`,
    );
    expect(stored.map((a) => a.allocation_id).sort(), `seed ${SEED}`).to.deep.equal([...okAllocations].sort());
    for (const a of stored) expect(a.version).to.equal(a.status === 'ALLOCATED' ? 1 : 2);
    expect(stored.filter((a) => a.status === 'EXPIRED').length).to.be.greaterThan(0);
    // Every ledger row belongs to a successful call or an expiry; nothing else wrote one.
    const allocationRows = stored.reduce((n, a) => n + Number(a.lines) * (a.status === 'ALLOCATED' ? 1 : 2), 0);
    const ledger = Number((await sql<{ n: string }>(url, 'select count(*) as n from stock_movement'))[0]!.n);
    expect(ledger, `seed ${SEED}`).to.equal(seedReceipts + receiptKeys.size + adjusts + 2 * transfers + allocationRows);
    // Every event belongs to a ledger row, an allocation change, or the seed's warehouses and items.
    const events = Number((await sql<{ n: string }>(url, 'select count(*) as n from event_outbox'))[0]!.n);
    const allocationEvents = stored.reduce((n, a) => n + a.version, 0);
    expect(events, `seed ${SEED}`).to.equal(WAREHOUSES.length + SKUS.length + ledger + allocationEvents);
    // Each expiry happened exactly once although two sweepers ran.
    const expiries = await sql<{ n: string }>(url, `select count(*) as n from event_outbox where type = 'AllocationExpired'`);
    expect(Number(expiries[0]!.n)).to.equal(stored.filter((a) => a.status === 'EXPIRED').length);
  });
});
