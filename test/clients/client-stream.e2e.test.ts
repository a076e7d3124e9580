import { expect } from 'chai';
import { Code, createInventoryClient, InventoryError, StockCountRejectionReason, StockState, type InventoryClient } from '../../clients/src/index.js';
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

  it('a count below what is allocated or unavailable is a rejected row naming the part in the way', async () => {
    await client.receiveStock({ sku: 'CS-B', warehouseCode: 'CS-1', quantity: 10 });
    await client.moveStock({ sku: 'CS-B', warehouseCode: 'CS-1', fromState: StockState.STOCK_STATE_AVAILABLE, toState: StockState.STOCK_STATE_DAMAGED, quantity: 4, reason: 'broken' });
    await client.allocateStock({ allocationId: 'cs-hold', lines: [{ sku: 'CS-B', warehouseCode: 'CS-1', quantity: 3 }] });
    const r = await client.importStockCounts([{ importId: 'client-count-2', counts: [{ sku: 'CS-B', warehouseCode: 'CS-1', countedOnHand: 6 }, { sku: 'CS-A', warehouseCode: 'CS-1', countedOnHand: 8 }] }]);
    expect(r).to.deep.include({ applied: 1, rejected: 1 });
    expect(r.rejections[0]).to.include({ row: 1, reason: StockCountRejectionReason.STOCK_COUNT_REJECTION_REASON_BELOW_COMMITTED });
    expect(r.rejections[0]!.message).to.match(/7 units must stay on hand \(3 allocated, 4 damaged\)/);
    // 7 is exactly what must stay: allowed, and available drops to 0.
    const ok = await client.importStockCounts([{ importId: 'client-count-3', counts: [{ sku: 'CS-B', warehouseCode: 'CS-1', countedOnHand: 7 }] }]);
    expect(ok).to.deep.include({ applied: 1, rejected: 0 });
    expect((await client.getStockLevel({ sku: 'CS-B', warehouseCode: 'CS-1' })).stockLevel).to.include({ onHand: 7, allocated: 3, damaged: 4, available: 0 });
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
