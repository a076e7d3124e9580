import { expect } from 'chai';
import { startTestApp, type TestApp } from '../support/app.js';
import { seed, sql } from '../support/stock.js';

describe('idempotency_record retention (e2e)', function () {
  this.timeout(60_000);
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ IDEMPOTENCY_RETENTION_HOURS: '24' });
    await seed(t.client, { 'WH-1': 1 }, ['SKU-1']);
  });
  after(() => t.stop());

  const receive = (key: string) => t.client.receiveStock({ sku: 'SKU-1', warehouseCode: 'WH-1', quantity: 1n, idempotencyKey: key });
  const keys = async () => (await sql<{ key: string }>(t.databaseUrl, 'select key from idempotency_record order by key')).map((r) => r.key);
  const onHand = async () => (await t.client.getStockLevel({ sku: 'SKU-1', warehouseCode: 'WH-1', consistent: true })).stockLevel!.onHand;

  it('purges records older than the retention in bounded batches; recent ones stay and still deduplicate', async () => {
    await sql(
      t.databaseUrl,
      `insert into idempotency_record (owner, key, operation, request_hash, created_at)
       select 'anonymous', 'old-' || i, 'ReceiveStock', 'x', now() - interval '25 hours' from generate_series(1, 2500) as i`,
    );
    await receive('recent-1');
    await receive('recent-2');
    // 23 hours old: still inside the retention.
    await sql(t.databaseUrl, `update idempotency_record set created_at = now() - interval '23 hours' where key = 'recent-2'`);
    expect(await keys()).to.have.length(2502);

    expect(await t.app.idempotencyPurger.purge()).to.equal(2500); // 1000 + 1000 + 500
    expect(await keys()).to.deep.equal(['recent-1', 'recent-2']);

    const level = await onHand();
    const again = await receive('recent-2');
    expect(again.stockLevel!.onHand).to.equal(level); // the stored response of the first call
    expect(await onHand()).to.equal(level); // deduplicated: nothing received twice
    expect(await t.app.idempotencyPurger.purge()).to.equal(0);
  });
});
