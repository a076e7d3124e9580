// A consumer written against the published package only (no repository imports). The
// package test compiles this one file as an ES module, as CommonJS (`module: node16` in a
// CommonJS project) and as an esbuild bundle, all with strict tsc, and runs each against a
// real server at INVENTORY_ADDRESS. No top-level await, so that it is valid CommonJS too.
import * as grpc from '@grpc/grpc-js';
import {
  afterPosition,
  Code,
  createInventoryClient,
  InventoryError,
  isInventoryError,
  ServingStatus,
  type InventoryClientOptions,
  type StockLevel,
} from '@inventory-service/client';

const address = process.env.INVENTORY_ADDRESS ?? '127.0.0.1:50051';
const name = process.env.CONSUMER ?? 'C';

async function rejection(call: Promise<unknown>): Promise<{ code: string; field: string | undefined } | string> {
  try {
    await call;
    return 'resolved';
  } catch (err) {
    return err instanceof InventoryError ? { code: err.codeName, field: err.field } : `not an InventoryError: ${String(err)}`;
  }
}

async function main(): Promise<Record<string, unknown>> {
  // The consumer's own grpc-js: credentials and Metadata from it must be accepted.
  const options: InventoryClientOptions = { credentials: grpc.credentials.createInsecure(), deadlineMs: 10_000, retry: { maxAttempts: 3 } };
  const inventory = createInventoryClient(address, options);
  const warehouseCode = `${name}-W`;
  const sku = `${name}-SKU`;
  const out: Record<string, unknown> = {};
  try {
    const responses: unknown[] = [];
    responses.push(await inventory.createWarehouse({ code: warehouseCode, name: 'Consumer', region: 'eu-central', priority: 1 }));
    responses.push(await inventory.createItem({ sku, name: 'Consumer item' }));
    const metadata = new grpc.Metadata();
    metadata.set('x-correlation-id', `${name}-1`);
    const received = await inventory.receiveStock({ sku, warehouseCode, quantity: 10 }, { metadata });
    responses.push(received);
    const level: StockLevel | undefined = received.stockLevel;
    const available: number | undefined = level?.available;
    out.available = available;
    responses.push(await inventory.getAvailability({ sku }));
    responses.push(await inventory.listStockMovements({ sku, pageSize: 10 }));
    responses.push(await inventory.batchGetStockLevels({ keys: [{ sku, warehouseCode }, { sku: 'NO-SUCH', warehouseCode }] }));
    out.json = JSON.stringify(responses).length > 0;

    out.fraction = await rejection(inventory.receiveStock({ sku, warehouseCode, quantity: 2.5 }));
    out.string = await rejection(inventory.receiveStock({ sku, warehouseCode, quantity: '1e3' as unknown as number }));
    out.negative = await rejection(inventory.receiveStock({ sku, warehouseCode, quantity: -1 }));
    out.badSku = await rejection(inventory.createItem({ sku: 'bad sku!', name: 'x' }));
    try {
      await inventory.getItem({ sku: 'NO-SUCH-SKU' });
    } catch (err) {
      if (isInventoryError(err, Code.NOT_FOUND)) out.notFound = err.reason;
    }

    for await (const { event } of inventory.subscribeEvents({ start: afterPosition(0), streamIdPrefix: `stock#${sku}#` })) {
      out.event = { type: event?.type, positionType: typeof event?.position };
      break; // leaving the loop cancels the stream
    }
    for await (const update of inventory.health.watch({ service: 'inventory.v1.InventoryService' })) {
      out.health = ServingStatus[update.status];
      break;
    }
  } finally {
    inventory.close();
  }
  return out;
}

main().then(
  (out) => console.log(JSON.stringify(out)),
  (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  },
);
