import { expect } from 'chai';
import { Code, createInventoryClient, InventoryError, StockCountRejectionReason, type InventoryClient } from '../../clients/src/index.js';
import { startTestApp, type TestApp } from '../support/app.js';

describe('client package: ImportStockCounts as a client stream (e2e)', () => {
  let t: TestApp;
  let client: InventoryClient;
  before(async () => {
    t = await startTestApp();
    client = createInventoryClient(t.address, { deadlineMs: 15_000 });
    await client.createWarehouse({ code: 'CS-1', name: 'Client stream', region: 'eu' });
    for (const sku of ['CS-A', 'CS-B']) await client.createItem({ sku, name: sku });
  });
  after(async () => {
    client.close();
    await t.stop();
  });

  it('sends the messages of an async generator and resolves with the typed summary; a rerun applies nothing', async () => {
    async function* count() {
      yield { importId: 'client-count-1', counts: [{ sku: 'CS-A', warehouseCode: 'CS-1', countedOnHand: 7 }] };
      yield { counts: [{ sku: 'CS-B', warehouseCode: 'CS-1', countedOnHand: 0 }, { sku: 'CS-X', warehouseCode: 'CS-1', countedOnHand: 1 }] };
    }
    const r = await client.importStockCounts(count());
    expect(r).to.deep.include({ importId: 'client-count-1', rows: 3, applied: 1, unchanged: 1, rejected: 1, alreadyDecided: 0 });
    expect(r.rejections[0]).to.include({ row: 3, sku: 'CS-X', reason: StockCountRejectionReason.STOCK_COUNT_REJECTION_REASON_UNKNOWN_SKU });
    const again = await client.importStockCounts(count());
    expect(again).to.deep.include({ applied: 1, alreadyDecided: 3 });
    expect((await client.getStockLevel({ sku: 'CS-A', warehouseCode: 'CS-1' })).stockLevel).to.include({ onHand: 7, version: 1 });
  });

  it('a call without an import id fails with INVALID_ARGUMENT naming the field', async () => {
    const err = await client.importStockCounts([{ counts: [] }]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(InventoryError);
    expect((err as InventoryError).code).to.equal(Code.INVALID_ARGUMENT);
    expect((err as InventoryError).message).to.match(/import_id/);
  });
});
