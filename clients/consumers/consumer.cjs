// A plain JavaScript CommonJS consumer: require(), no TypeScript, run with
// --no-experimental-require-module so that it can only work through the CommonJS build.
'use strict';
const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const { afterPosition, createInventoryClient, InventoryError, isInventoryError } = require('@inventory-service/client');

async function main() {
  const name = process.env.CONSUMER || 'JS';
  const inventory = createInventoryClient(process.env.INVENTORY_ADDRESS, { credentials: grpc.credentials.createInsecure() });
  const out = {};
  try {
    // One grpc-js: the client resolves the very copy (and version) the consumer has.
    const clientDir = path.dirname(require.resolve('@inventory-service/client'));
    out.oneGrpc = require.resolve('@grpc/grpc-js', { paths: [clientDir] }) === require.resolve('@grpc/grpc-js');
    out.grpcVersion = require('@grpc/grpc-js/package.json').version;
    const sku = `${name}-SKU`;
    const warehouseCode = `${name}-W`;
    await inventory.createWarehouse({ code: warehouseCode, name: 'Plain JS', region: 'eu' });
    await inventory.createItem({ sku, name: 'Plain JS item' });
    const { stockLevel } = await inventory.receiveStock({ sku, warehouseCode, quantity: 3 }, { metadata: new grpc.Metadata() });
    out.available = stockLevel.available;
    try {
      await inventory.receiveStock({ sku, warehouseCode, quantity: 2.5 });
    } catch (err) {
      out.fraction = err instanceof InventoryError ? { code: err.codeName, field: err.field } : String(err);
    }
    // import() of the same package loads the other build (the exports map's import condition):
    // its errors are not instanceof this build's class, but isInventoryError knows them.
    const esm = await import('@inventory-service/client');
    const other = esm.createInventoryClient(process.env.INVENTORY_ADDRESS);
    try {
      await other.receiveStock({ sku, warehouseCode, quantity: 0.5 });
    } catch (err) {
      out.otherBuild = { instanceOf: err instanceof InventoryError, isInventoryError: isInventoryError(err, grpc.status.INVALID_ARGUMENT) };
    } finally {
      other.close();
    }
    for await (const { event } of inventory.subscribeEvents({ start: afterPosition(0), streamIdPrefix: `stock#${sku}#` })) {
      out.event = event.type;
      break;
    }
  } finally {
    inventory.close();
  }
  return out;
}

main().then(
  (out) => console.log(JSON.stringify(out)),
  (err) => {
    console.error(err);
    process.exitCode = 1;
  },
);
