import {
  Metadata,
  Server,
  ServerCredentials,
  status,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { HealthCheckResponse_ServingStatus, HealthService } from '../../src/gen/grpc/health/v1/health.js';
import { InventoryServiceService } from '../../src/gen/inventory/v1/inventory_service.js';

/** One call the scripted server received. */
export interface ReceivedCall {
  readonly method: string;
  readonly request: Record<string, unknown>;
  readonly metadata: Metadata;
}

/**
 * A real gRPC server on 127.0.0.1:0 serving the InventoryService and Health contracts with
 * scripted outcomes: each method fails its first `failures[method]` calls with `failWith`,
 * then answers with an empty (default) response. It exists to produce transient failures
 * on demand, which the real service cannot, for the client's retry tests.
 */
export class ScriptedServer {
  readonly calls: ReceivedCall[] = [];
  /** Method name (e.g. `GetItem`) -> how many of its next calls fail. */
  readonly failures = new Map<string, number>();
  failWith: status = status.UNAVAILABLE;
  /** Health/Watch: messages sent before the stream fails with `failWith` (Infinity: then stays open). */
  watchMessagesBeforeFailure = Infinity;
  private server = new Server();
  port = 0;

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  callsOf(method: string): ReceivedCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  private shouldFail(method: string): boolean {
    const left = this.failures.get(method) ?? 0;
    if (left <= 0) return false;
    this.failures.set(method, left - 1);
    return true;
  }

  async start(): Promise<this> {
    const impl: UntypedServiceImplementation = {};
    for (const [key, def] of Object.entries(InventoryServiceService)) {
      const method = def.path.slice(def.path.lastIndexOf('/') + 1);
      impl[key] = (call: ServerUnaryCall<Record<string, unknown>, unknown>, callback: sendUnaryData<unknown>) => {
        this.calls.push({ method, request: call.request, metadata: call.metadata });
        if (this.shouldFail(method)) callback({ code: this.failWith, details: `scripted ${status[this.failWith]}` });
        else callback(null, def.responseDeserialize(Buffer.alloc(0)));
      };
    }
    this.server.addService(InventoryServiceService as unknown as ServiceDefinition, impl);
    this.server.addService(HealthService as unknown as ServiceDefinition, {
      check: (call: ServerUnaryCall<Record<string, unknown>, unknown>, callback: sendUnaryData<unknown>) => {
        this.calls.push({ method: 'Check', request: call.request, metadata: call.metadata });
        callback(null, { status: HealthCheckResponse_ServingStatus.SERVING });
      },
      watch: (call: ServerWritableStream<Record<string, unknown>, unknown>) => {
        this.calls.push({ method: 'Watch', request: call.request, metadata: call.metadata });
        if (this.shouldFail('Watch')) {
          call.emit('error', { code: this.failWith, details: `scripted ${status[this.failWith]}` });
          return;
        }
        const n = this.watchMessagesBeforeFailure;
        for (let i = 0; i < Math.min(n, 2); i++) call.write({ status: HealthCheckResponse_ServingStatus.SERVING });
        if (Number.isFinite(n)) call.emit('error', { code: this.failWith, details: 'scripted mid-stream failure' });
      },
    });
    this.port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
    );
    return this;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.tryShutdown(() => resolve()));
  }
}
