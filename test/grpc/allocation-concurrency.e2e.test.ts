import { credentials, status, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import { InventoryServiceClient, type InventoryServiceServer } from '../../src/gen/inventory/v1/inventory_service.js';
import { promiseClient, startTestApp, type PromiseClient, type TestApp } from '../support/app.js';
import { freshDatabase } from '../support/stack.js';
import { brokenInvariants, seed, sql } from '../support/stock.js';

/** Opens `n` separate gRPC connections (own channels) to one server. */
function connections(address: string, n: number): { clients: Array<PromiseClient<InventoryServiceServer>>; close(): void } {
  const raws = Array.from({ length: n }, (_, i) => new InventoryServiceClient(address, credentials.createInsecure(), { 'grpc.channel_id': i } as never));
  return { clients: raws.map((r) => promiseClient<InventoryServiceServer>(r)), close: () => raws.forEach((r) => r.close()) };
}

async function settle<T>(promises: Array<Promise<T>>): Promise<{ ok: T[]; errors: ServiceError[] }> {
  const results = await Promise.allSettled(promises);
  return {
    ok: results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])),
    errors: results.flatMap((r) => (r.status === 'rejected' ? [r.reason as ServiceError] : [])),
  };
}

const modes: Array<{ name: string; key: string; env: Record<string, string> }> = [
  { name: 'batched', key: 'batched', env: {} },
  { name: 'one transaction per call', key: 'unbatched', env: { ALLOCATION_BATCH_MAX: '1' } },
];
for (const mode of modes) {
  describe(`allocation under concurrency, ${mode.name} (e2e)`, () => {
    let url: string;
    let apps: TestApp[];
    let conns: ReturnType<typeof connections>[];
    let clients: Array<PromiseClient<InventoryServiceServer>>;
    before(async function () {
      this.timeout(60_000);
      url = await freshDatabase();
      // Two service instances on one database, two connections each.
      apps = [];
      for (let i = 0; i < 2; i++) apps.push(await startTestApp(mode.env, { databaseUrl: url }));
      conns = apps.map((a) => connections(a.address, 2));
      clients = conns.flatMap((c) => c.clients);
      await seed(apps[0]!.client, { A: 1, B: 2 }, ['HOT', 'X', 'Y', 'Z']);
    });
    after(async () => {
      for (const c of conns) c.close();
      for (const a of apps) await a.stop();
    });

    it('200 concurrent one-unit allocations against 50 units: exactly 50 succeed, the rest are FAILED_PRECONDITION', async function () {
      this.timeout(60_000);
      const c = clients[0]!;
      await c.receiveStock({ sku: 'HOT', warehouseCode: 'A', quantity: 30n });
      await c.receiveStock({ sku: 'HOT', warehouseCode: 'B', quantity: 20n });
      const { ok, errors } = await settle(
        Array.from({ length: 200 }, (_, i) =>
          clients[i % clients.length]!.allocateStock({ allocationId: `hot-${i}`, lines: [{ sku: 'HOT', quantity: 1n }] }),
        ),
      );
      expect(errors.map((e) => e.code).filter((code) => code !== status.FAILED_PRECONDITION)).to.deep.equal([]);
      expect(ok).to.have.length(50);
      expect(errors).to.have.length(150);
      expect(errors[0]!.details).to.match(/^not enough stock of sku "HOT": requested 1, available 0$/);
      const availability = await c.getAvailability({ sku: 'HOT' });
      expect(availability).to.deep.include({ onHand: 50n, allocated: 50n, available: 0n });
      const rows = await sql<{ n: string }>(url, `select count(*) as n from allocation where allocation_id like 'hot-%'`);
      expect(rows[0]!.n).to.equal('50');
      expect(await brokenInvariants(url)).to.deep.equal([]);
    });

    it('multi-line allocations over the same skus in opposite orders all finish (no deadlock)', async function () {
      this.timeout(60_000);
      const c = clients[0]!;
      for (const sku of ['X', 'Y', 'Z']) {
        await c.receiveStock({ sku, warehouseCode: 'A', quantity: 1000n });
        await c.receiveStock({ sku, warehouseCode: 'B', quantity: 1000n });
      }
      const orders = [
        ['X', 'Y', 'Z'],
        ['Z', 'Y', 'X'],
        ['Y', 'X', 'Z'],
      ];
      const calls = Array.from({ length: 120 }, (_, i) => {
        const skus = orders[i % orders.length]!;
        const client = clients[i % clients.length]!;
        const lines = skus.flatMap((sku, j) => (i % 2 === 0 ? [{ sku, quantity: 1n, warehouseCode: j % 2 === 0 ? 'A' : 'B' }] : [{ sku, quantity: 2n }]));
        return client.allocateStock({ allocationId: `multi-${i}`, lines }).then(async (r) => {
          if (i % 3 === 0) await client.releaseAllocation({ allocationId: `multi-${i}` });
          else if (i % 3 === 1) await client.fulfillAllocation({ allocationId: `multi-${i}` });
          return r;
        });
      });
      const { ok, errors } = await settle(calls);
      expect(errors.map((e) => `${status[e.code]}: ${e.details}`)).to.deep.equal([]);
      expect(ok).to.have.length(120);
      expect(await brokenInvariants(url)).to.deep.equal([]);
    });

    it('concurrent duplicates of one AllocateStock create one allocation and all return it', async function () {
      this.timeout(30_000);
      const c = clients[0]!;
      await c.receiveStock({ sku: 'X', warehouseCode: 'A', quantity: 10n });
      const before = (await c.getStockLevel({ sku: 'X', warehouseCode: 'A' })).stockLevel!;
      const { ok, errors } = await settle(
        Array.from({ length: 24 }, (_, i) => clients[i % clients.length]!.allocateStock({ allocationId: 'dup-1', lines: [{ sku: 'X', quantity: 3n, warehouseCode: 'A' }] })),
      );
      expect(errors.map((e) => e.details)).to.deep.equal([]);
      for (const r of ok) expect(r.allocation).to.deep.equal(ok[0]!.allocation);
      const after = (await c.getStockLevel({ sku: 'X', warehouseCode: 'A' })).stockLevel!;
      expect(after.allocated - before.allocated).to.equal(3n);
      expect(after.version - before.version).to.equal(1n);
    });

    it('concurrent duplicates with different lines: one allocation wins, the others are refused', async function () {
      this.timeout(30_000);
      const { ok, errors } = await settle(
        Array.from({ length: 12 }, (_, i) =>
          clients[i % clients.length]!.allocateStock({ allocationId: 'dup-2', lines: [{ sku: i % 2 === 0 ? 'Y' : 'Z', quantity: BigInt(1 + (i % 3)) }] }),
        ),
      );
      const winner = (await clients[0]!.getAllocation({ allocationId: 'dup-2' })).allocation!;
      for (const r of ok) expect(r.allocation).to.deep.equal(winner);
      expect(ok.length).to.be.greaterThan(0);
      expect(errors.length).to.be.greaterThan(0);
      for (const e of errors) {
        expect(e.code).to.equal(status.FAILED_PRECONDITION);
        expect(e.details).to.match(/dup-2.*exists already/);
      }
      expect(await brokenInvariants(url)).to.deep.equal([]);
    });

    it('concurrent duplicate receipts with one idempotency key on two instances apply once', async function () {
      this.timeout(30_000);
      const c = clients[0]!;
      const before = (await c.getStockLevel({ sku: 'Z', warehouseCode: 'B' })).stockLevel!;
      const { ok, errors } = await settle(
        Array.from({ length: 16 }, (_, i) =>
          clients[i % clients.length]!.receiveStock({ sku: 'Z', warehouseCode: 'B', quantity: 5n, idempotencyKey: `po-${mode.key}` }),
        ),
      );
      expect(errors.map((e) => e.details)).to.deep.equal([]);
      for (const r of ok) expect(r.stockLevel).to.deep.equal(ok[0]!.stockLevel);
      const after = (await c.getStockLevel({ sku: 'Z', warehouseCode: 'B' })).stockLevel!;
      expect(after.onHand - before.onHand).to.equal(5n);
    });
  });
}
