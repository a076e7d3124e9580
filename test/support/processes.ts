import { credentials } from '@grpc/grpc-js';
import { InventoryServiceClient, type InventoryServiceServer } from '../../src/gen/inventory/v1/inventory_service.js';
import { promiseClient, type PromiseClient } from './app.js';
import { freePort, spawnService, waitServing } from './process.js';
import { dynamoEndpoint } from './stack.js';

/** One real service process (`node dist/src/main.js`) of several behind a load balancer. */
export interface ServiceInstance {
  readonly name: string;
  readonly address: string;
  readonly client: PromiseClient<InventoryServiceServer>;
  /** What the process printed, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

export interface ServiceInstanceOptions {
  readonly name: string;
  readonly databaseUrl: string;
  readonly table: string;
  readonly env?: Readonly<Record<string, string>>;
}

/** Starts an instance on its own port against a shared database and event table. */
export async function startServiceInstance(options: ServiceInstanceOptions): Promise<ServiceInstance> {
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const service = spawnService({
    DATABASE_URL: options.databaseUrl,
    DYNAMODB_ENDPOINT: dynamoEndpoint(),
    EVENTS_TABLE: options.table,
    GRPC_HOST: '127.0.0.1',
    GRPC_PORT: String(port),
    LOG_LEVEL: 'warn',
    DATABASE_POOL_MIN: '0',
    DATABASE_POOL_MAX: '5',
    RELAY_INTERVAL_MS: '500',
    SHUTDOWN_TIMEOUT_MS: '3000',
    ...options.env,
  });
  const raw = new InventoryServiceClient(address, credentials.createInsecure());
  const stop = async () => {
    raw.close();
    const { child } = service;
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await service.exited;
    clearTimeout(timer);
  };
  try {
    await waitServing(address, 60_000, service.exited);
  } catch (err) {
    await stop();
    throw new Error(`${options.name} did not start: ${(err as Error).message}\n${service.output()}`);
  }
  return {
    name: options.name,
    address,
    client: promiseClient<InventoryServiceServer>(raw),
    output: () => service.output().slice(-20_000),
    stop,
  };
}
