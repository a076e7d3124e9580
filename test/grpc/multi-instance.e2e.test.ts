import { expect } from 'chai';
import pg from 'pg';
import { status, type ServiceError } from '@grpc/grpc-js';
import { startServiceInstance, type ServiceInstance } from '../support/processes.js';
import { freshDatabase, freshTableName } from '../support/stack.js';
import { brokenInvariants, seed } from '../support/stock.js';

/** How soon a change committed through one instance must be visible on the others. */
const VISIBLE_WITHIN_MS = 1000;

/**
 * Three real service processes against one database, as behind a load balancer. Each
 * caches reads; a write through one must reach the others' caches promptly.
 */
describe('several service instances against one database (e2e)', function () {
  this.timeout(180_000);
  let url: string;
  let instances: ServiceInstance[] = [];
  let db: pg.Client;

  before(async () => {
    url = await freshDatabase();
    const table = freshTableName();
    instances = await Promise.all(
      ['A', 'B', 'C'].map((name) => startServiceInstance({ name, databaseUrl: url, table })),
    );
    db = new pg.Client({ connectionString: url });
    await db.connect();
  });
  after(async () => {
    await db?.end();
    await Promise.all(instances.map((i) => i.stop()));
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed') for (const i of instances) console.log(`--- ${i.name} output:\n${i.output()}`);
  });

  const a = () => instances[0]!.client;
  const b = () => instances[1]!.client;
  const c = () => instances[2]!.client;

  /** Polls `read` until it reports `version`; returns how long that took. */
  async function visibleAfter(read: () => Promise<bigint | undefined>, version: bigint): Promise<number> {
    const started = Date.now();
    for (;;) {
      const seen = await read();
      if (seen === version) return Date.now() - started;
      if (Date.now() - started > 10_000) throw new Error(`still at version ${seen} after 10 s, expected ${version}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  it('B answers from its cache: a change made behind the service is not seen without a notification', async () => {
    await a().createWarehouse({ code: 'W1', name: 'One', region: 'eu', priority: 1 });
    expect((await b().getWarehouse({ code: 'W1' })).warehouse!.name).to.equal('One');
    await db.query(`update warehouse set name = 'Sneaky' where code = 'W1'`); // no outbox row, no NOTIFY
    expect((await b().getWarehouse({ code: 'W1' })).warehouse!.name).to.equal('One');
    expect((await b().getWarehouse({ code: 'W1', consistent: true })).warehouse!.name).to.equal('Sneaky');
  });

  it(`a write through A is visible on B and C within ${VISIBLE_WITHIN_MS} ms`, async () => {
    // Fill B's and C's caches first.
    for (const read of [b, c]) await read().getWarehouse({ code: 'W1' });
    const { warehouse } = await a().updateWarehouse({ code: 'W1', priority: 2 });
    const delays = await Promise.all(
      [b, c].map((read) => visibleAfter(async () => (await read().getWarehouse({ code: 'W1' })).warehouse?.version, warehouse!.version)),
    );
    for (const ms of delays) expect(ms).to.be.below(VISIBLE_WITHIN_MS);
    const seen = await b().getWarehouse({ code: 'W1' });
    expect(seen.warehouse).to.deep.include({ priority: 2, name: 'Sneaky' });
  });

  it('after a burst of writes through every instance, each instance serves the last committed version', async () => {
    const clients = [a, b, c];
    let last = 0n;
    for (let i = 0; i < 15; i++) {
      const writer = clients[i % 3]!;
      // Readers keep their caches warm between writes.
      await Promise.all(clients.map((read) => read().getWarehouse({ code: 'W1' })));
      last = (await writer().updateWarehouse({ code: 'W1', priority: 100 + i })).warehouse!.version;
    }
    for (const read of clients) {
      const ms = await visibleAfter(async () => (await read().getWarehouse({ code: 'W1' })).warehouse?.version, last);
      expect(ms).to.be.below(VISIBLE_WITHIN_MS);
    }
    for (const read of clients) expect((await read().getWarehouse({ code: 'W1' })).warehouse!.priority).to.equal(114);
  });

  it('when the notification connections are cut, no instance serves a stale value for long', async () => {
    for (const read of [b, c]) await read().getWarehouse({ code: 'W1' });
    const cut = await db.query(
      `select pg_terminate_backend(pid) from pg_stat_activity
        where application_name = 'inventory-cache-listener' and datname = current_database()`,
    );
    expect(cut.rowCount).to.equal(3);
    const { warehouse } = await a().updateWarehouse({ code: 'W1', priority: 3 }); // its NOTIFY may reach nobody
    for (const read of [b, c]) {
      const ms = await visibleAfter(async () => (await read().getWarehouse({ code: 'W1' })).warehouse?.version, warehouse!.version);
      expect(ms).to.be.below(VISIBLE_WITHIN_MS);
    }
    // And the listeners come back.
    const until = Date.now() + 10_000;
    for (;;) {
      const { rows } = await db.query<{ n: number }>(
        `select count(*)::int as n from pg_stat_activity where application_name = 'inventory-cache-listener' and datname = current_database()`,
      );
      if (rows[0]!.n === 3) break;
      if (Date.now() > until) throw new Error(`only ${rows[0]!.n} listeners back`);
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  it('150 concurrent one-unit allocations of 50 units through three instances: exactly 50 succeed, no oversell', async () => {
    await seed(a(), { AL1: 1, AL2: 2 }, ['CONTENDED']);
    await a().receiveStock({ sku: 'CONTENDED', warehouseCode: 'AL1', quantity: 30n });
    await b().receiveStock({ sku: 'CONTENDED', warehouseCode: 'AL2', quantity: 20n });
    const clients = [a, b, c];
    const results = await Promise.allSettled(
      Array.from({ length: 150 }, (_, i) =>
        clients[i % 3]!().allocateStock({ allocationId: `MI-${i}`, lines: [{ sku: 'CONTENDED', quantity: 1n }] }),
      ),
    );
    const ok = results.filter((r) => r.status === 'fulfilled');
    const errors = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as ServiceError] : []));
    expect(errors.filter((e) => e.code !== status.FAILED_PRECONDITION).map((e) => `${e.code} ${e.details}`)).to.deep.equal([]);
    expect(ok).to.have.length(50);
    expect(errors).to.have.length(100);
    for (const read of clients) {
      const availability = await read().getAvailability({ sku: 'CONTENDED', consistent: true });
      expect(availability).to.include({ onHand: 50n, allocated: 50n, available: 0n });
    }
    expect(await brokenInvariants(url)).to.deep.equal([]);
  });

  it(`a stock write through A is visible through cached GetStockLevel on B and C within ${VISIBLE_WITHIN_MS} ms`, async () => {
    await seed(a(), { ST1: 1 }, ['CACHED-STOCK']);
    // Fill B's and C's caches (a level that never had stock is cached too).
    for (const read of [b, c]) expect((await read().getStockLevel({ sku: 'CACHED-STOCK', warehouseCode: 'ST1' })).stockLevel!.version).to.equal(0n);
    for (const read of [b, c]) await read().getStockLevel({ sku: 'CACHED-STOCK', warehouseCode: 'ST1' });
    const { stockLevel } = await a().receiveStock({ sku: 'CACHED-STOCK', warehouseCode: 'ST1', quantity: 7n });
    const delays = await Promise.all(
      [b, c].map((read) =>
        visibleAfter(async () => (await read().getStockLevel({ sku: 'CACHED-STOCK', warehouseCode: 'ST1' })).stockLevel?.version, stockLevel!.version),
      ),
    );
    for (const ms of delays) expect(ms).to.be.below(VISIBLE_WITHIN_MS);
    const { stockLevel: again } = await a().allocateStock({ allocationId: 'MI-CACHED', lines: [{ sku: 'CACHED-STOCK', quantity: 2n }] }).then(
      async () => b().getStockLevel({ sku: 'CACHED-STOCK', warehouseCode: 'ST1', consistent: true }),
    );
    for (const read of [b, c]) {
      const ms = await visibleAfter(async () => (await read().getStockLevel({ sku: 'CACHED-STOCK', warehouseCode: 'ST1' })).stockLevel?.version, again!.version);
      expect(ms).to.be.below(VISIBLE_WITHIN_MS);
      expect((await read().getAvailability({ sku: 'CACHED-STOCK' })).allocated).to.equal(2n);
    }
  });
});
