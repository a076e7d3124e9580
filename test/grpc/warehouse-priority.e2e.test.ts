import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { DEFAULT_PRIORITY } from '../../src/inventory/warehouses.js';
import { failure, startTestApp, type TestApp } from '../support/app.js';

/** What omitting a warehouse's priority means (proto: CreateWarehouseRequest.priority). */
describe('warehouse priority default (e2e)', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.stop());

  it('a warehouse created without a priority gets 1000, and explicit priorities 1-999 are preferred to it', async () => {
    const c = t.client;
    expect(DEFAULT_PRIORITY).to.equal(1000);
    const { warehouse: unranked } = await c.createWarehouse({ code: 'A-UNRANKED', name: 'Unranked', region: 'eu' });
    expect(unranked!.priority).to.equal(1000);
    const { warehouse: ranked } = await c.createWarehouse({ code: 'B-RANKED', name: 'Ranked', region: 'eu', priority: 999 });
    expect(ranked!.priority).to.equal(999);
    await c.createItem({ sku: 'P-1', name: 'Priority item' });
    for (const warehouseCode of ['A-UNRANKED', 'B-RANKED']) await c.receiveStock({ sku: 'P-1', warehouseCode, quantity: 5n });
    // Both can fill the line; the ranked one wins although the unranked one sorts first by code.
    const { allocation } = await c.allocateStock({ allocationId: 'prio-1', lines: [{ sku: 'P-1', quantity: 2n }] });
    expect(allocation!.lines.map((l) => l.warehouseCode)).to.deep.equal(['B-RANKED']);
  });

  it('UpdateWarehouse, whose priority has presence, can still set 0', async () => {
    const { warehouse } = await t.client.updateWarehouse({ code: 'A-UNRANKED', priority: 0 });
    expect(warehouse!.priority).to.equal(0);
  });

  it('CreateWarehouse rejects a negative or too large priority, naming it', async () => {
    for (const priority of [-1, 1_000_001]) {
      const err = await failure(t.client.createWarehouse({ code: 'C-BAD', name: 'Bad', region: 'eu', priority }));
      expect(err.code).to.equal(status.INVALID_ARGUMENT);
      expect(err.details).to.match(/^priority: must be an integer from 1 to 1000000/);
    }
  });
});
