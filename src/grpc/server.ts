import { Server, ServerCredentials, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { InventoryServiceService } from '../gen/inventory/v1/inventory_service.js';
import type { EdgeDeps } from './call.js';
import { inventoryServiceHandlers, type InventoryUseCases } from './inventory-service.js';
import { addReflection, ReflectionIndex } from './reflection.js';

export const SERVICE_NAMES = {
  inventory: 'inventory.v1.InventoryService',
  health: 'grpc.health.v1.Health',
  reflectionV1: 'grpc.reflection.v1.ServerReflection',
  reflectionV1Alpha: 'grpc.reflection.v1alpha.ServerReflection',
} as const;

export interface GrpcServer {
  readonly server: Server;
  readonly health: HealthImplementation;
  /** The port actually bound (useful with port 0). */
  readonly port: number;
  setServing(serving: boolean): void;
  /** Stops accepting calls, lets in-flight calls finish for up to `timeoutMs`, then cancels them. */
  shutdown(timeoutMs: number): Promise<void>;
}

export async function startGrpcServer(
  deps: EdgeDeps,
  useCases: InventoryUseCases,
  address: { host: string; port: number },
): Promise<GrpcServer> {
  const server = new Server({
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.max_receive_message_length': 8 * 1024 * 1024,
  });
  server.addService(InventoryServiceService, inventoryServiceHandlers(deps, useCases) as UntypedServiceImplementation);

  const health = new HealthImplementation({ '': 'NOT_SERVING', [SERVICE_NAMES.inventory]: 'NOT_SERVING' });
  health.addToServer(server);
  addReflection(server, new ReflectionIndex(Object.values(SERVICE_NAMES)));

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${address.host}:${address.port}`, ServerCredentials.createInsecure(), (err, bound) =>
      err ? reject(err) : resolve(bound),
    ),
  );

  const setServing = (serving: boolean) => {
    const s = serving ? 'SERVING' : 'NOT_SERVING';
    health.setStatus('', s);
    health.setStatus(SERVICE_NAMES.inventory, s);
  };

  return {
    server,
    health,
    port,
    setServing,
    shutdown: (timeoutMs) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, timeoutMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}
