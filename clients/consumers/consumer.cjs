// A plain JavaScript CommonJS consumer: require(), no TypeScript, run with
// --no-experimental-require-module so that it can only work through the CommonJS build.
'use strict';
const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const { afterPosition, createInventoryClient, InventoryError } = require('@inventory-service/client');

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
