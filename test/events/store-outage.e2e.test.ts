import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { EmbeddedDynamoServer } from '../../src/embedded/dynamodb-choice.js';
import { newTestDynamo } from '../support/dynamo-backend.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { healthOf, ServingStatus, waitFor } from '../support/events.js';
import { drained, expectClean, verify } from '../support/replay.js';
import { expectStoresAgree } from '../support/streams.js';

describe('fault: DynamoDB unavailable during writes (e2e)', () => {
  let dir: string;
  let dynamo: EmbeddedDynamoServer;
  let t: TestApp;
  let port: number;
  const endpoint = () => `http://127.0.0.1:${port}`;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'inventory-outage-'));
    dynamo = await newTestDynamo({ dataDir: dir, port: 0 });
    await dynamo.start();
    port = Number(new URL(dynamo.endpoint).port);
    t = await startTestApp({ DYNAMODB_ENDPOINT: endpoint(), RELAY_HEALTH_MAX_AGE_MS: '1000', SNAPSHOT_EVERY: '4' });
  });
  after(async () => {
    await t?.stop();
    await dynamo.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('every write (warehouses, stock, allocations) succeeds in PostgreSQL, the backlog shows in health and drains, and the stores agree', async function () {
    this.timeout(120_000);
    const writers = 10;
    const rounds = 12;
    for (let w = 0; w < writers; w++) await t.client.createWarehouse({ code: `OUT-${w}`, name: 'w', region: 'eu', priority: 0 });
    await t.client.createItem({ sku: 'OUT-SKU', name: 'stock written during the outage', description: '' });
    let done = 0;
    const outage = (async () => {
      await waitFor(() => done >= (writers * rounds) / 4, 60_000, 'some writes');
      await dynamo.stop();
      await waitFor(() => done >= (writers * rounds) * 3 / 4, 60_000, 'writes during the outage');
    })();
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        for (let i = 1; i <= rounds; i++) {
          await t.client.updateWarehouse({ code: `OUT-${w}`, priority: i });
          // Stock and allocation streams too: a receipt, an allocation, then its release or fulfilment.
          const level = { sku: 'OUT-SKU', warehouseCode: `OUT-${w}` };
          await t.client.receiveStock({ ...level, quantity: 2n });
          const allocationId = `out-${w}-${i}`;
          await t.client.allocateStock({ allocationId, lines: [{ ...level, quantity: 1n }] });
          if (i % 2 === 0) await t.client.fulfillAllocation({ allocationId });
          else await t.client.releaseAllocation({ allocationId });
          done++;
          if (done > (writers * rounds) / 2) await new Promise((r) => setTimeout(r, 5)); // spread the rest over the outage
        }
      }),
    );
    await outage;

    // The relay cannot append: the backlog grows old and the relay health says so.
    await waitFor(async () => (await t.app.relay.backlog()).count > 0, 10_000, 'a backlog');
    await waitFor(async () => (await healthOf(t.address, 'inventory.v1.EventRelay')) === ServingStatus.NOT_SERVING, 20_000, 'relay NOT_SERVING');
    expect(await healthOf(t.address, '')).to.equal(ServingStatus.SERVING); // writes still work

    dynamo = await newTestDynamo({ dataDir: dir, port });
    await dynamo.start();
    await drained(t.app, 60_000);
    await waitFor(async () => (await healthOf(t.address, 'inventory.v1.EventRelay')) === ServingStatus.SERVING, 20_000, 'relay SERVING');

    for (let w = 0; w < writers; w++) {
      expect((await t.client.getWarehouse({ code: `OUT-${w}` })).warehouse!.version).to.equal(BigInt(rounds + 1));
      const { stockLevel } = await t.client.getStockLevel({ sku: 'OUT-SKU', warehouseCode: `OUT-${w}` });
      expect(stockLevel).to.deep.include({ onHand: BigInt(2 * rounds - rounds / 2), allocated: 0n, version: BigInt(3 * rounds) });
    }
    // Per writer: its warehouse created + per round one update, 3 stock and 2 allocation events; and the item.
    expect(await expectStoresAgree(t.databaseUrl, t.table, endpoint())).to.equal(writers * (1 + 6 * rounds) + 1);
    expectClean(await verify(t.databaseUrl, t.table, endpoint()));
  });
});
