import { credentials, Metadata, type Client, type handleUnaryCall, type ServiceError } from '@grpc/grpc-js';
import { startApp, type App, type AppOptions } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import * as inventoryMessages from '../../src/gen/inventory/v1/inventory_service.js';
import * as stockStateMessages from '../../src/gen/inventory/v1/stock_states.js';
import { InventoryServiceClient, type DeepPartial, type InventoryServiceServer } from '../../src/gen/inventory/v1/inventory_service.js';
import { dynamoEndpoint, freshDatabase, freshTableName, quietLog } from './stack.js';

export interface TestApp {
  app: App;
  client: PromiseClient<InventoryServiceServer>;
  raw: InventoryServiceClient;
  databaseUrl: string;
  table: string;
  address: string;
  stop(): Promise<void>;
}

/** Starts the real service on 127.0.0.1:0 against a fresh database and event table. */
export async function startTestApp(
  env: Record<string, string> = {},
  options: AppOptions & { databaseUrl?: string; table?: string } = {},
): Promise<TestApp> {
  const databaseUrl = options.databaseUrl ?? (await freshDatabase());
  const table = options.table ?? freshTableName();
  const config = loadConfig({
    GRPC_PORT: '0',
    METRICS_PORT: '0',
    DATABASE_URL: databaseUrl,
    DYNAMODB_ENDPOINT: dynamoEndpoint(),
    EVENTS_TABLE: table,
    RELAY_INTERVAL_MS: '200',
    DATABASE_POOL_MIN: '0',
    SHUTDOWN_TIMEOUT_MS: '5000',
    // The integrity auditor has tests of its own; elsewhere it would only add load.
    AUDIT_ENABLED: 'false',
    ...env,
  });
  const app = await startApp(config, quietLog, options);
  const address = `127.0.0.1:${app.port}`;
  const raw = new InventoryServiceClient(address, credentials.createInsecure());
  return {
    app,
    client: promiseClient<InventoryServiceServer>(raw),
    raw,
    databaseUrl,
    table,
    address,
    stop: async () => {
      raw.close();
      await app.stop();
    },
  };
}

/** A generated grpc-js client's unary methods as promise-returning functions. */
export type PromiseClient<S> = {
  [K in keyof S]: S[K] extends handleUnaryCall<infer Req, infer Res>
    ? (req: DeepPartial<Req>, metadata?: Metadata) => Promise<Res>
    : never;
};

type MessageModule = Record<string, unknown>;

/**
 * Wraps a generated client: requests may leave fields out (filled with proto defaults by
 * the generated `<Method>Request.fromPartial`), responses come back as promises.
 */
/** The InventoryService's request messages live in inventory_service.proto and the per-feature files. */
const serviceMessages: MessageModule = { ...inventoryMessages, ...stockStateMessages };

export function promiseClient<S>(client: Client, messages: MessageModule = serviceMessages): PromiseClient<S> {
  return new Proxy({} as PromiseClient<S>, {
    get(_target, name: string) {
      const method = (client as unknown as Record<string, Function>)[name];
      if (typeof method !== 'function') return undefined;
      const requestType = messages[`${name[0]!.toUpperCase()}${name.slice(1)}Request`] as
        | { fromPartial(p: unknown): unknown }
        | undefined;
      if (requestType === undefined) throw new Error(`no request type for ${name}`);
      return (req: unknown, metadata = new Metadata()) =>
        new Promise((resolve, reject) =>
          method.call(client, requestType.fromPartial(req), metadata, (err: ServiceError | null, res: unknown) =>
            err ? reject(err) : resolve(res),
          ),
        );
    },
  });
}

/** Awaits a call that must fail; returns its ServiceError. */
export async function failure(promise: Promise<unknown>): Promise<ServiceError> {
  try {
    await promise;
  } catch (err) {
    return err as ServiceError;
  }
  throw new Error('expected the call to fail');
}
