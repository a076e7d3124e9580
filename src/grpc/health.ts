import { status, type Server, type ServerWritableStream, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';

/**
 * grpc.health.v1.Health whose Watch streams end when `closing` aborts. The library's Watch
 * never ends on its own, so one open Watch would hold a graceful shutdown for the whole
 * SHUTDOWN_TIMEOUT_MS; like the other streams, each ends with UNAVAILABLE (after the
 * NOT_SERVING that shutdown publishes first) and the client reconnects elsewhere.
 */
export class ClosableHealth extends HealthImplementation {
  constructor(
    initial: Record<string, 'SERVING' | 'NOT_SERVING'>,
    private readonly closing: AbortSignal | undefined,
  ) {
    super(initial);
  }

  override addToServer(server: Server): void {
    const closing = this.closing;
    const watching: Pick<Server, 'addService'> = {
      addService(definition: ServiceDefinition, implementation: UntypedServiceImplementation) {
        const watch = implementation.watch as ((call: ServerWritableStream<unknown, unknown>) => void) | undefined;
        server.addService(definition, {
          ...implementation,
          ...(watch === undefined
            ? {}
            : {
                watch: (call: ServerWritableStream<unknown, unknown>) => {
                  const end = () => {
                    if (!call.cancelled) call.emit('error', { code: status.UNAVAILABLE, details: 'the server is shutting down; reconnect' });
                  };
                  if (closing?.aborted) return end();
                  closing?.addEventListener('abort', end, { once: true });
                  call.on('cancelled', () => closing?.removeEventListener('abort', end));
                  watch(call);
                },
              }),
        });
      },
    };
    super.addToServer(watching as Server);
  }
}
