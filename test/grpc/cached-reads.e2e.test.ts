import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import pg from 'pg';
import { failure, startTestApp, type TestApp } from '../support/app.js';
import { eventually } from '../support/dynamo.js';

/** Changes a row behind the service's back: no outbox event, so no invalidation. */
async function sneak(url: string, sql: string, params: unknown[]): Promise<void> {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    await db.query(sql, params);
  } finally {
    await db.end();
  }
}

describe('cached GetItem and GetWarehouse (e2e)', () => {
  describe('with the cache on', () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp();
      await t.client.createItem({ sku: 'SKU-1', name: 'Widget' });
      await t.client.createWarehouse({ code: 'W1', name: 'One', region: 'eu', priority: 1 });
      // Their own NOTIFYs come back through the listener some time after the answers; one that
      // lands after a read's load drops that fresh entry (a harmless miss), which the exact
      // counts below would take for a failure.
      await eventually(async () => expect(t.app.cacheListener?.received).to.be.at.least(2));
    });
    after(() => t.stop());

    it('answers repeated reads from the cache and counts hits and misses', async () => {
      const before = t.app.cache.stats();
      const first = await t.client.getItem({ sku: 'SKU-1' });
      const second = await t.client.getItem({ sku: 'SKU-1' });
      expect(second).to.deep.equal(first);
      const after = t.app.cache.stats();
      expect(after.misses - before.misses).to.equal(1);
      expect(after.hits - before.hits).to.equal(1);
    });

    it('consistent=true reads the database; a plain read may return the cached value', async () => {
      await t.client.getItem({ sku: 'SKU-1' });
      await sneak(t.databaseUrl, `update item set name = 'Changed behind our back' where sku = $1`, ['SKU-1']);
      expect((await t.client.getItem({ sku: 'SKU-1' })).item!.name).to.equal('Widget'); // cached
      expect((await t.client.getItem({ sku: 'SKU-1', consistent: true })).item!.name).to.equal('Changed behind our back');
      // The consistent read refreshed the entry.
      expect((await t.client.getItem({ sku: 'SKU-1' })).item!.name).to.equal('Changed behind our back');
    });

    it("a write through this instance is visible to the very next read: invalidation precedes the write's answer", async () => {
      expect((await t.client.getWarehouse({ code: 'W1' })).warehouse!.version).to.equal(1n);
      const { warehouse } = await t.client.updateWarehouse({ code: 'W1', priority: 7 });
      const read = await t.client.getWarehouse({ code: 'W1' });
      expect(read.warehouse).to.deep.equal(warehouse);
      expect(read.warehouse!.version).to.equal(2n);
    });

    it('an item created after a NOT_FOUND is found (misses are not cached)', async () => {
      expect((await failure(t.client.getItem({ sku: 'LATE' }))).code).to.equal(status.NOT_FOUND);
      await t.client.createItem({ sku: 'LATE', name: 'Late' });
      expect((await t.client.getItem({ sku: 'LATE' })).item!.name).to.equal('Late');
    });

    it('rejects a malformed key before touching the cache', async () => {
      const before = t.app.cache.stats();
      const err = await failure(t.client.getItem({ sku: 'bad sku' }));
      expect(err.code).to.equal(status.INVALID_ARGUMENT);
      expect(err.details).to.match(/^sku:/);
      const after = t.app.cache.stats();
      expect(after.misses).to.equal(before.misses);
      expect(after.size).to.equal(before.size);
    });
  });

  describe('with CACHE_MAX_ENTRIES=0', () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp({ CACHE_MAX_ENTRIES: '0' });
      await t.client.createItem({ sku: 'SKU-1', name: 'Widget' });
    });
    after(() => t.stop());

    it('every read goes to the database and no listener runs', async () => {
      await t.client.getItem({ sku: 'SKU-1' });
      await sneak(t.databaseUrl, `update item set name = 'Changed' where sku = $1`, ['SKU-1']);
      expect((await t.client.getItem({ sku: 'SKU-1' })).item!.name).to.equal('Changed');
      expect(t.app.cacheListener).to.equal(undefined);
      expect(t.app.cache.stats()).to.include({ enabled: false, size: 0 });
    });
  });
});
