import { credentials } from '@grpc/grpc-js';
import { InventoryServiceClient, type InventoryServiceServer } from '../../src/gen/inventory/v1/inventory_service.js';
import { promiseClient } from '../support/app.js';

/** Entities the plausible values of the generator refer to, so fuzzed calls reach the database. */
export async function seedFuzzData(address: string): Promise<void> {
  const raw = new InventoryServiceClient(address, credentials.createInsecure());
  const c = promiseClient<InventoryServiceServer>(raw);
  const ignoreExisting = (p: Promise<unknown>) => p.catch((err: { code?: number }) => (err.code === 6 ? undefined : Promise.reject(err)));
  try {
    for (const code of ['WH-1', 'WH-2']) await ignoreExisting(c.createWarehouse({ code, name: code, region: 'eu', priority: 1 }));
    for (const sku of ['SKU-1', 'SKU-2']) await ignoreExisting(c.createItem({ sku, name: sku }));
    await c.receiveStock({ sku: 'SKU-1', warehouseCode: 'WH-1', quantity: 1000n });
    await ignoreExisting(c.allocateStock({ allocationId: 'A-1', lines: [{ sku: 'SKU-1', warehouseCode: 'WH-1', quantity: 1n }] }));
  } finally {
    raw.close();
  }
}
