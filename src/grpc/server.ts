import { Server, ServerCredentials, type ServerInterceptor, type UntypedServiceImplementation } from '@grpc/grpc-js';
import type { HealthImplementation } from 'grpc-health-check';
import { EventServiceService } from '../gen/inventory/v1/event_service.js';
import { InventoryServiceService } from '../gen/inventory/v1/inventory_service.js';
import type { EventQueries } from '../events/queries.js';
import type { EdgeDeps } from './call.js';
import { eventServiceHandlers } from './event-service.js';
import { inventoryServiceHandlers, type InventoryUseCases } from './inventory-service.js';
import { ClosableHealth } from './health.js';
import { tolerantDeserializers } from './malformed-requests.js';
import { metricsInterceptor, type GrpcServerMetrics } from './metrics-interceptor.js';
import { tracingInterceptor } from './tracing-interceptor.js';
import type { Tracer } from '@opentelemetry/api';
import { addReflection, ReflectionIndex } from './reflection.js';

export const SERVICE_NAMES = {
  inventory: 'inventory.v1.InventoryService',
  events: 'inventory.v1.EventService',
  health: 'grpc.health.v1.Health',
  reflectionV1: 'grpc.reflection.v1.ServerReflection',
  reflectionV1Alpha: 'grpc.reflection.v1alpha.ServerReflection',
} as const;

/**
 * A health-only name (no such service): SERVING while the outbox relay keeps up,
 * NOT_SERVING while its oldest unappended event is older than RELAY_HEALTH_MAX_AGE_MS.
 */
export const RELAY_HEALTH_NAME = 'inventory.v1.EventRelay';

export interface GrpcServer {
  readonly server: Server;
  readonly health: HealthImplementation;
  /** The port actually bound (useful with port 0). */
  readonly port: number;
  setServing(serving: boolean): void;
  /** Stops accepting calls, lets in-flight calls finish for up to `timeoutMs`, then cancels them. */
  shutdown(timeoutMs: number): Promise<void>;
}

/** The cross-cutting layers around every call; each is optional. */
export interface EdgeLayers {
  readonly metrics?: GrpcServerMetrics;
  readonly tracer?: Tracer;
}

export async function startGrpcServer(
  deps: EdgeDeps,
  useCases: InventoryUseCases,
  address: { host: string; port: number },
  events?: EventQueries,
  layers: EdgeLayers = {},
): Promise<GrpcServer> {
  // grpc-js wraps each interceptor around the ones before it: the last one is the outermost.
  const interceptors: ServerInterceptor[] = [];
  if (layers.metrics !== undefined) interceptors.push(metricsInterceptor(layers.metrics));
  if (layers.tracer !== undefined) interceptors.push(tracingInterceptor(layers.tracer));
  const server = new Server({
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.max_receive_message_length': 8 * 1024 * 1024,
    interceptors,
  });
  server.addService(tolerantDeserializers(InventoryServiceService), inventoryServiceHandlers(deps, useCases) as UntypedServiceImplementation);

  if (events !== undefined) server.addService(tolerantDeserializers(EventServiceService), eventServiceHandlers(deps, events) as UntypedServiceImplementation);

  const health = new ClosableHealth({
    '': 'NOT_SERVING',
    [SERVICE_NAMES.inventory]: 'NOT_SERVING',
    [SERVICE_NAMES.events]: 'NOT_SERVING',
    [RELAY_HEALTH_NAME]: 'SERVING',
  }, deps.closing);
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
    health.setStatus(SERVICE_NAMES.events, s);
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
