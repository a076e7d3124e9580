import { expect } from 'chai';
import { startTestApp, type TestApp } from '../support/app.js';
import { eventually } from '../support/dynamo.js';
import { query, startReplicaPair, type ReplicaPair } from '../support/replica.js';
import { seed } from '../support/stock.js';

/**
 * The service with DATABASE_REPLICA_URLS pointing at a real streaming standby: the
 * reporting calls read the replica, everything else the primary. With WAL replay paused,
 * a fresh receipt is missing from the reports while the primary reads see it.
 */
describe('reporting reads on a read replica (e2e)', function () {
  this.timeout(120_000);
  let pair: ReplicaPair;
  let t: TestApp;
  const c = () => t.client;

  before(async () => {
    pair = await startReplicaPair();
    t = await startTestApp({ DATABASE_REPLICA_URLS: pair.replicaUrl }, { databaseUrl: pair.primaryUrl });
    await seed(t.client, { BER: 1 }, ['OLD', 'FRESH']);
    await t.client.receiveStock({ sku: 'OLD', warehouseCode: 'BER', quantity: 3n });
    // Wait until the replica has caught up with the seed.
    await eventually(async () => expect((await c().listLowStock({ threshold: 100n })).levels.map((l) => l.sku)).to.deep.equal(['OLD']), 10_000);
  });
  after(async () => {
    await pair?.resumeReplay().catch(() => undefined);
    await t?.stop();
    await pair?.stop();
  });

  it('ListLowStock and ListStockMovements miss a receipt the paused replica has not replayed; primary reads see it', async () => {
    await pair.pauseReplay();
    await eventually(async () => {
      const [state] = await query<{ s: string }>(pair.replicaUrl, 'select pg_get_wal_replay_pause_state() as s');
      expect(state!.s).to.equal('paused');
    }, 10_000);

    const { stockLevel } = await c().receiveStock({ sku: 'FRESH', warehouseCode: 'BER', quantity: 2n });
    await c().receiveStock({ sku: 'OLD', warehouseCode: 'BER', quantity: 1n });

    // Reports: the replica's (stale) view.
    const low = await c().listLowStock({ threshold: 100n });
    expect(low.levels.map((l) => [l.sku, l.onHand])).to.deep.equal([['OLD', 3n]]);
    expect((await c().listStockMovements({ sku: 'FRESH' })).movements).to.deep.equal([]);
    expect((await c().listStockMovements({ sku: 'OLD' })).movements).to.have.length(1);
    // Everything else: the primary.
    expect((await c().getStockLevel({ sku: 'FRESH', warehouseCode: 'BER', consistent: true })).stockLevel).to.deep.equal(stockLevel);
    expect((await c().getStockLevel({ sku: 'FRESH', warehouseCode: 'BER' })).stockLevel).to.deep.equal(stockLevel);
    expect((await c().batchGetStockLevels({ keys: [{ sku: 'OLD', warehouseCode: 'BER' }], consistent: true })).results[0]!.result).to.deep.include({
      $case: 'stockLevel',
    });
    expect((await c().getAvailability({ sku: 'OLD' })).onHand).to.equal(4n);

    await pair.resumeReplay();
    await eventually(async () => {
      const again = await c().listLowStock({ threshold: 100n });
      expect(again.levels.map((l) => [l.sku, l.onHand])).to.deep.equal([
        ['FRESH', 2n],
        ['OLD', 4n],
      ]);
    }, 10_000);
    await eventually(async () => expect((await c().listStockMovements({ sku: 'OLD' })).movements).to.have.length(2), 10_000);
  });
});
