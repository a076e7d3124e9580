// A consumer written against the published package only (no repository imports): the
// package test installs the packed tarball next to it, type-checks it with strict tsc and
// runs it against a real server at INVENTORY_ADDRESS.
import {
  Code,
  createInventoryClient,
  InventoryError,
  isInventoryError,
  ServingStatus,
  type InventoryClientOptions,
  type Warehouse,
} from '@inventory-service/client';

const address = process.env.INVENTORY_ADDRESS ?? '127.0.0.1:50051';
const options: InventoryClientOptions = { deadlineMs: 10_000, retry: { maxAttempts: 3 } };
const inventory = createInventoryClient(address, options);
const out: Record<string, unknown> = {};

try {
  const { warehouse } = await inventory.createWarehouse({ code: 'SMOKE-1', name: 'Smoke', region: 'eu-central', priority: 1 });
  const created: Warehouse | undefined = warehouse;
  out.warehouseVersion = created?.version.toString();
  await inventory.createItem({ sku: 'SMOKE-SKU', name: 'Smoke test item' });
  out.itemName = (await inventory.getItem({ sku: 'SMOKE-SKU' })).item?.name;
  out.warehouses = (await inventory.listWarehouses({ pageSize: 10 })).warehouses.map((w) => w.code);

  try {
    await inventory.getItem({ sku: 'NO-SUCH-SKU' });
  } catch (err) {
    if (isInventoryError(err, Code.NOT_FOUND)) out.notFound = { code: err.codeName, reason: err.reason };
  }
  try {
    await inventory.createItem({ sku: 'bad sku!', name: 'x' });
  } catch (err) {
    if (err instanceof InventoryError) out.invalid = { field: err.field, message: err.statusMessage };
  }

  for await (const update of inventory.health.watch({ service: 'inventory.v1.InventoryService' })) {
    out.health = ServingStatus[update.status];
    break; // leaving the loop cancels the stream
  }
} finally {
  inventory.close();
}
console.log(JSON.stringify(out));
