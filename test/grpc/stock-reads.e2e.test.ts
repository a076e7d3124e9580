import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import type { BatchGetStockLevelsResult } from '../../src/gen/inventory/v1/inventory_service.js';
import { failure, startTestApp, type TestApp } from '../support/app.js';
import { seed, sql } from '../support/stock.js';

/** Statements this process sends to the primary that read the stock tables. */
function countStockQueries(t: TestApp): { readonly count: number; stop(): void } {
  const knex = t.app.orm.em.getConnection().getKnex();
  const seen = { count: 0 };
  const listener = (q: { sql?: string }) => {
    if (/\b(stock_level|item|warehouse)\b/.test(q.sql ?? '')) seen.count++;
  };
  knex.on('query', listener);
  return {
    get count() {
      return seen.count;
    },
    stop: () => knex.off('query', listener),
  };
}

const level = (r: BatchGetStockLevelsResult) => {
  if (r.result?.$case !== 'stockLevel') throw new Error(`expected a level, got ${JSON.stringify(r.result)}`);
  return r.result.value;
};
const error = (r: BatchGetStockLevelsResult) => {
  if (r.result?.$case !== 'error') throw new Error(`expected an error, got ${JSON.stringify(r.result)}`);
  return r.result.value;
};

describe('cached stock reads and BatchGetStockLevels (e2e)', () => {
  let t: TestApp;
  const c = () => t.client;
  before(async () => {
    t = await startTestApp();
    await seed(t.client, { BER: 1, HAM: 2 }, ['S1', 'S2', 'S3']);
    await t.client.receiveStock({ sku: 'S1', warehouseCode: 'BER', quantity: 10n });
    await t.client.receiveStock({ sku: 'S1', warehouseCode: 'HAM', quantity: 5n });
  });
  after(() => t.stop());

  describe('GetStockLevel', () => {
    it('answers repeats from the cache; a write through the service invalidates before it answers', async () => {
      const first = await c().getStockLevel({ sku: 'S1', warehouseCode: 'BER' });
      const before = t.app.cache.stats();
      expect(await c().getStockLevel({ sku: 'S1', warehouseCode: 'BER' })).to.deep.equal(first);
      expect(t.app.cache.stats().hits - before.hits).to.equal(1);
      const { stockLevel } = await c().adjustStock({ sku: 'S1', warehouseCode: 'BER', change: { $case: 'delta', value: -3n }, reason: 'count' });
      expect((await c().getStockLevel({ sku: 'S1', warehouseCode: 'BER' })).stockLevel).to.deep.equal(stockLevel);
      // An allocation changes the level too.
      await c().allocateStock({ allocationId: 'O-1', lines: [{ sku: 'S1', warehouseCode: 'BER', quantity: 2n }] });
      expect((await c().getStockLevel({ sku: 'S1', warehouseCode: 'BER' })).stockLevel).to.include({ onHand: 7n, allocated: 2n, available: 5n });
    });

    it('consistent=true reads the primary (and refreshes the entry)', async () => {
      await c().getStockLevel({ sku: 'S1', warehouseCode: 'HAM' });
      await sql(t.databaseUrl, `update stock_level set on_hand = 99 where sku = 'S1' and warehouse_code = 'HAM'`); // no event
      expect((await c().getStockLevel({ sku: 'S1', warehouseCode: 'HAM' })).stockLevel!.onHand).to.equal(5n);
      expect((await c().getStockLevel({ sku: 'S1', warehouseCode: 'HAM', consistent: true })).stockLevel!.onHand).to.equal(99n);
      expect((await c().getStockLevel({ sku: 'S1', warehouseCode: 'HAM' })).stockLevel!.onHand).to.equal(99n);
      await sql(t.databaseUrl, `update stock_level set on_hand = 5 where sku = 'S1' and warehouse_code = 'HAM'`);
      await c().getStockLevel({ sku: 'S1', warehouseCode: 'HAM', consistent: true });
    });

    it('a level that never had stock is cached as zeros, and its first receipt invalidates it', async () => {
      const empty = (await c().getStockLevel({ sku: 'S2', warehouseCode: 'BER' })).stockLevel!;
      expect(empty).to.include({ onHand: 0n, version: 0n });
      const before = t.app.cache.stats();
      await c().getStockLevel({ sku: 'S2', warehouseCode: 'BER' });
      expect(t.app.cache.stats().hits - before.hits).to.equal(1);
      await c().receiveStock({ sku: 'S2', warehouseCode: 'BER', quantity: 4n });
      expect((await c().getStockLevel({ sku: 'S2', warehouseCode: 'BER' })).stockLevel).to.include({ onHand: 4n, version: 1n });
    });

    it('NOT_FOUND is not cached; malformed keys never reach the cache', async () => {
      expect((await failure(c().getStockLevel({ sku: 'LATE', warehouseCode: 'BER' }))).code).to.equal(status.NOT_FOUND);
      await c().createItem({ sku: 'LATE', name: 'Late' });
      expect((await c().getStockLevel({ sku: 'LATE', warehouseCode: 'BER' })).stockLevel!.version).to.equal(0n);
      const before = t.app.cache.stats();
      const err = await failure(c().getStockLevel({ sku: 'S1', warehouseCode: 'bad code' }));
      expect(err.code).to.equal(status.INVALID_ARGUMENT);
      expect(err.details).to.match(/^warehouse_code:/);
      expect(t.app.cache.stats().misses).to.equal(before.misses);
    });
  });

  describe('GetAvailability', () => {
    it('is cached, invalidated by stock changes of the sku and by warehouse changes', async () => {
      const first = await c().getAvailability({ sku: 'S1' });
      const before = t.app.cache.stats();
      expect(await c().getAvailability({ sku: 'S1' })).to.deep.equal(first);
      expect(t.app.cache.stats().hits - before.hits).to.equal(1);
      await c().receiveStock({ sku: 'S1', warehouseCode: 'HAM', quantity: 1n });
      const after = await c().getAvailability({ sku: 'S1' });
      expect(after.onHand).to.equal(first.onHand + 1n);
      // Deactivating a warehouse moves `allocatable` although no stock changed.
      await c().updateWarehouse({ code: 'HAM', active: false });
      const inactive = await c().getAvailability({ sku: 'S1' });
      expect(inactive.allocatable).to.equal(after.allocatable - 6n);
      expect(inactive.available).to.equal(after.available);
      await c().updateWarehouse({ code: 'HAM', active: true });
      expect((await c().getAvailability({ sku: 'S1' })).allocatable).to.equal(after.allocatable);
    });

    it('consistent=true reads the primary; an unknown sku is NOT_FOUND', async () => {
      const cached = await c().getAvailability({ sku: 'S1' });
      await sql(t.databaseUrl, `update stock_level set on_hand = on_hand + 100 where sku = 'S1' and warehouse_code = 'BER'`);
      expect((await c().getAvailability({ sku: 'S1' })).onHand).to.equal(cached.onHand);
      expect((await c().getAvailability({ sku: 'S1', consistent: true })).onHand).to.equal(cached.onHand + 100n);
      await sql(t.databaseUrl, `update stock_level set on_hand = on_hand - 100 where sku = 'S1' and warehouse_code = 'BER'`);
      await c().getAvailability({ sku: 'S1', consistent: true });
      expect((await failure(c().getAvailability({ sku: 'NOPE' }))).code).to.equal(status.NOT_FOUND);
    });
  });

  describe('BatchGetStockLevels', () => {
    it('answers every key in request order: levels, zeros, per-key NOT_FOUND and INVALID_ARGUMENT, duplicates', async () => {
      const { results } = await c().batchGetStockLevels({
        keys: [
          { sku: 'S1', warehouseCode: 'HAM' },
          { sku: 'NOPE', warehouseCode: 'BER' },
          { sku: 'S3', warehouseCode: 'BER' },
          { sku: 'S1', warehouseCode: 'NOPE' },
          { sku: 'bad sku', warehouseCode: 'BER' },
          { sku: 'S1', warehouseCode: 'bad' },
          { sku: 'S1', warehouseCode: 'HAM' },
          { sku: '', warehouseCode: '' },
        ],
      });
      expect(results.map((r) => r.key)).to.deep.equal([
        { sku: 'S1', warehouseCode: 'HAM' },
        { sku: 'NOPE', warehouseCode: 'BER' },
        { sku: 'S3', warehouseCode: 'BER' },
        { sku: 'S1', warehouseCode: 'NOPE' },
        { sku: 'bad sku', warehouseCode: 'BER' },
        { sku: 'S1', warehouseCode: 'bad' },
        { sku: 'S1', warehouseCode: 'HAM' },
        { sku: '', warehouseCode: '' },
      ]);
      const ham = (await c().getStockLevel({ sku: 'S1', warehouseCode: 'HAM', consistent: true })).stockLevel;
      expect(level(results[0]!)).to.deep.equal(ham);
      expect(error(results[1]!)).to.include({ code: status.NOT_FOUND, message: 'keys[1].sku: item "NOPE" not found' });
      expect(level(results[2]!)).to.include({ sku: 'S3', warehouseCode: 'BER', onHand: 0n, version: 0n });
      expect(error(results[3]!)).to.include({ code: status.NOT_FOUND, message: 'keys[3].warehouse_code: warehouse "NOPE" not found' });
      expect(error(results[4]!).code).to.equal(status.INVALID_ARGUMENT);
      expect(error(results[4]!).message).to.match(/^keys\[4\]\.sku:/);
      expect(error(results[5]!).message).to.match(/^keys\[5\]\.warehouse_code:/);
      expect(level(results[6]!)).to.deep.equal(ham);
      expect(error(results[7]!).message).to.equal('keys[7].sku: is required');
    });

    it('reads every miss in ONE statement, and hits none', async () => {
      const keys = [...Array(40).keys()].map((i) => ({ sku: ['S1', 'S2', 'S3', 'UNKNOWN'][i % 4]!, warehouseCode: ['BER', 'HAM', 'W404'][i % 3]! }));
      t.app.cache.clear();
      const before = t.app.cache.stats();
      const counter = countStockQueries(t);
      try {
        const first = await c().batchGetStockLevels({ keys });
        expect(counter.count).to.equal(1);
        expect(t.app.cache.stats().misses - before.misses).to.equal(12); // distinct keys
        const second = await c().batchGetStockLevels({ keys });
        // Unknown keys are asked again (NOT_FOUND is not cached): still one statement.
        expect(counter.count).to.equal(2);
        expect(second).to.deep.equal(first);
        const known = keys.filter((k) => k.sku !== 'UNKNOWN' && k.warehouseCode !== 'W404');
        await c().batchGetStockLevels({ keys: known });
        expect(counter.count, 'all hits: no statement').to.equal(2);
        await c().batchGetStockLevels({ keys: known, consistent: true });
        expect(counter.count, 'consistent: one statement').to.equal(3);
      } finally {
        counter.stop();
      }
    });

    it('shares entries with GetStockLevel: a write invalidates what the batch serves', async () => {
      await c().batchGetStockLevels({ keys: [{ sku: 'S3', warehouseCode: 'HAM' }] });
      const { stockLevel } = await c().receiveStock({ sku: 'S3', warehouseCode: 'HAM', quantity: 2n });
      const { results } = await c().batchGetStockLevels({ keys: [{ sku: 'S3', warehouseCode: 'HAM' }] });
      expect(level(results[0]!)).to.deep.equal(stockLevel);
    });

    it('takes 1 to 1000 keys', async () => {
      const key = { sku: 'S1', warehouseCode: 'BER' };
      const none = await failure(c().batchGetStockLevels({ keys: [] }));
      expect(none.code).to.equal(status.INVALID_ARGUMENT);
      expect(none.details).to.match(/^keys:/);
      const tooMany = await failure(c().batchGetStockLevels({ keys: Array(1001).fill(key) }));
      expect(tooMany.code).to.equal(status.INVALID_ARGUMENT);
      expect(tooMany.details).to.match(/^keys:.*1001/);
      const { results } = await c().batchGetStockLevels({ keys: Array(1000).fill(key) });
      expect(results).to.have.length(1000);
      expect(new Set(results.map((r) => level(r).version)).size).to.equal(1);
    });
  });
});
