import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { credentials, Metadata } from '@grpc/grpc-js';
import { HealthCheckResponse_ServingStatus, HealthClient } from '../../src/gen/grpc/health/v1/health.js';
import { InventoryServiceClient, type InventoryServiceServer } from '../../src/gen/inventory/v1/inventory_service.js';
import { promiseClient, type PromiseClient } from './app.js';
import { freePort } from './ports.js';
import { dynamoEndpoint } from './stack.js';

const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/main.js');

/** One real service process (`node dist/src/main.js`), as a load balancer would see it. */
export interface ServiceProcess {
  readonly name: string;
  readonly address: string;
  readonly pid: number;
  readonly client: PromiseClient<InventoryServiceServer>;
  /** What the process printed (the tail), for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

export interface ServiceProcessOptions {
  readonly name: string;
  readonly databaseUrl: string;
  readonly table: string;
  readonly env?: Readonly<Record<string, string>>;
}

export async function startServiceProcess(options: ServiceProcessOptions): Promise<ServiceProcess> {
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const child = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env.PATH ?? '',
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
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const raw = new InventoryServiceClient(address, credentials.createInsecure());
  const health = new HealthClient(address, credentials.createInsecure());
  const stop = async () => {
    raw.close();
    health.close();
    await terminate(child, exited);
  };
  try {
    await waitServing(health, exited, 60_000);
  } catch (err) {
    await stop();
    throw new Error(`${options.name} did not start: ${(err as Error).message}\n${output}`);
  }
  return {
    name: options.name,
    address,
    pid: child.pid!,
    client: promiseClient<InventoryServiceServer>(raw),
    output: () => output,
    stop,
  };
}

async function waitServing(health: HealthClient, exited: Promise<number | null>, ms: number): Promise<void> {
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));
  const until = Date.now() + ms;
  for (;;) {
    if (exitCode !== undefined) throw new Error(`exited with code ${exitCode}`);
    const serving = await new Promise<boolean>((resolve) =>
      health.check({ service: '' }, new Metadata(), { deadline: Date.now() + 1000 }, (err, res) =>
        resolve(!err && res?.status === HealthCheckResponse_ServingStatus.SERVING),
      ),
    );
    if (serving) return;
    if (Date.now() > until) throw new Error(`not SERVING after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** SIGTERM (graceful stop), then SIGKILL if it is still there after 15 s. */
async function terminate(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}
