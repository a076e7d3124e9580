import { Server, ServerCredentials, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { InventoryServiceService } from '../src/gen/inventory/v1/inventory_service.js';
import { RESPONSES } from './fixtures.js';

/**
 * The ceiling: a bare grpc-js server with the same service definition that answers each
 * call with a prebuilt response of the same shape and content as the real service's. No
 * wrapper, no logging, no cache: only what grpc-js itself costs per call. Prints its port.
 */
const server = new Server();
const answer = (response: unknown) => (_call: unknown, callback: (err: null, res: unknown) => void) => callback(null, response);
server.addService(InventoryServiceService, {
  getItem: answer(RESPONSES.getItem),
  getWarehouse: answer(RESPONSES.getWarehouse),
  getStockLevel: answer(RESPONSES.getStockLevel),
  batchGetStockLevels: answer(RESPONSES.batchGetStockLevels),
} as UntypedServiceImplementation);
server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, port) => {
  if (err) throw err;
  process.stdout.write(`${JSON.stringify({ port })}\n`);
});
process.on('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
