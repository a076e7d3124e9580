import { Server, ServerCredentials, type ServerInterceptor, type UntypedServiceImplementation } from '@grpc/grpc-js';
import type { HealthImplementation } from 'grpc-health-check';
import { EventServiceService } from '../gen/inventory/v1/event_service.js';
import { InventoryServiceService } from '../gen/inventory/v1/inventory_service.js';
import type { IntegrityReports } from '../events/audit/report.js';
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
import type { EdgeSecurity } from './auth/index.js';

export const SERVICE_NAMES = {
  inventory: 'inventory.v1.InventoryService',
  events: 'inventory.v1.EventService',
  health: 'grpc.health.v1.Health',
  reflectionV1: 'grpc.reflection.v1.ServerReflection',
  reflectionV1Alpha: 'grpc.reflection.v1alpha.ServerReflection',
} as const;

/** Every method of the API services, fully qualified: what the policy's roles are made of. */
export const API_METHODS: readonly string[] = [InventoryServiceService, EventServiceService].flatMap((svc) =>
  Object.values(svc).map((m) => m.path.slice(1)),
);

/**
 * A health-only name (no such service): SERVING while the outbox relay keeps up,
 * NOT_SERVING while its oldest unappended event is older than RELAY_HEALTH_MAX_AGE_MS.
 */
export const RELAY_HEALTH_NAME = 'inventory.v1.EventRelay';

/**
 * A health-only name: NOT_SERVING while the integrity auditor has an open finding (a
 * confirmed difference between the event store and PostgreSQL). Not for readiness: the
 * service keeps serving; it is for alerting (docs/integrity.md).
 */
export const INTEGRITY_HEALTH_NAME = 'inventory.v1.Integrity';

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
  /** TLS credentials, authentication and authorization (innermost: metrics and traces see their refusals). */
  readonly security?: EdgeSecurity;
}

export async function startGrpcServer(
  deps: EdgeDeps,
  useCases: InventoryUseCases,
  address: { host: string; port: number },
  events: { readonly queries: EventQueries; readonly integrity: IntegrityReports },
  layers: EdgeLayers = {},
): Promise<GrpcServer> {
  // grpc-js wraps each interceptor around the ones before it: the last one is the outermost.
  const interceptors: ServerInterceptor[] = [];
  if (layers.metrics !== undefined) interceptors.push(metricsInterceptor(layers.metrics));
  if (layers.tracer !== undefined) interceptors.push(tracingInterceptor(layers.tracer));
  interceptors.push(...(layers.security?.interceptors ?? []));
  const security = layers.security;
  const server = new Server({
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.max_receive_message_length': 8 * 1024 * 1024,
    interceptors,
  });
  server.addService(tolerantDeserializers(InventoryServiceService), inventoryServiceHandlers(deps, useCases) as UntypedServiceImplementation);

  server.addService(tolerantDeserializers(EventServiceService), eventServiceHandlers(deps, events.queries, events.integrity) as UntypedServiceImplementation);

  const health = new ClosableHealth({
    '': 'NOT_SERVING',
    [SERVICE_NAMES.inventory]: 'NOT_SERVING',
    [SERVICE_NAMES.events]: 'NOT_SERVING',
    [RELAY_HEALTH_NAME]: 'SERVING',
    [INTEGRITY_HEALTH_NAME]: 'SERVING',
  }, deps.closing);
  health.addToServer(server);
  if (security?.reflection ?? true) addReflection(server, new ReflectionIndex(Object.values(SERVICE_NAMES)));

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${address.host}:${address.port}`, security?.credentials ?? ServerCredentials.createInsecure(), (err, bound) =>
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
