import { randomUUID } from 'node:crypto';
import { Client, credentials as grpcCredentials, Metadata, type ChannelCredentials, type ChannelOptions } from '@grpc/grpc-js';
import { ServerStreamCall, unaryCall, type CallPlan } from './calls.js';
import { clientStreamCall } from './client-stream.js';
import { HealthDefinition } from './gen/grpc/health/v1/health.js';
import { messageFields, methodRequests } from './gen/fields.js';
import { apiServices } from './gen/index.js';
import { classifyMethod, type MethodKind } from './methods.js';
import { resolveRetry, type RetryOptions } from './retry.js';
import { checkTokenTransport, tokenInterceptor, type TokenSource } from './token.js';
import { injectTraceContext } from './trace-context.js';
import type { CallOptions, MethodDefinition, ServiceClient, ServiceDefinition, ServicesClient } from './types.js';
import { validateRequest } from './validate.js';

/** TLS settings; PEM-encoded buffers. Omitted roots mean the system's trusted CAs. */
export interface TlsOptions {
  readonly rootCerts?: Buffer;
  /** Client key and certificate, for mutual TLS. */
  readonly privateKey?: Buffer;
  readonly certChain?: Buffer;
}

/** HTTP/2 keepalive pings, so idle connections and long streams notice a dead peer. */
export interface KeepaliveOptions {
  /** Interval between pings. Default 60000 ms. */
  readonly timeMs?: number;
  /** How long to wait for the ping's answer before dropping the connection. Default 20000 ms. */
  readonly timeoutMs?: number;
  /** Also ping while no call is active. Default false. */
  readonly permitWithoutCalls?: boolean;
}

export interface InventoryClientOptions {
  /** `true` (system CAs), TLS settings, or `false` for plaintext. Default false. */
  readonly tls?: boolean | TlsOptions;
  /** Ready-made grpc-js credentials; overrides `tls`. */
  readonly credentials?: ChannelCredentials;
  /** Budget of every unary call, retries included. Default 10000 ms; `Infinity` for none. */
  readonly deadlineMs?: number;
  /** Budget of every server stream. Default `Infinity`: streams may run for as long as they are read. */
  readonly streamDeadlineMs?: number;
  /** Keepalive settings, or `false` to send no pings. */
  readonly keepalive?: KeepaliveOptions | false;
  /** Retry settings for every call, or `false` to never retry. See {@link RetryOptions}. */
  readonly retry?: Partial<RetryOptions> | false;
  /**
   * Fill an empty `idempotency_key` of a write with a fresh UUID, once per logical call, so
   * that the client's own retries can never apply a write twice. Default true.
   */
  readonly autoIdempotencyKey?: boolean;
  /** How to make an idempotency key. Default `crypto.randomUUID`. */
  readonly newIdempotencyKey?: () => string;
  /** Overrides of the retry classification, by `<package>.<Service>/<Method>` or method name. */
  readonly methodKinds?: Readonly<Record<string, MethodKind>>;
  /**
   * A bearer token sent as `authorization: Bearer <token>` with every call: a string, or a
   * function called before every call (so tokens can refresh). Refused over plaintext to
   * anything but a loopback address.
   */
  readonly token?: TokenSource;
  /** Metadata sent with every call. */
  readonly metadata?: Readonly<Record<string, string | readonly string[]>>;
  /** Further grpc-js channel options, applied last. */
  readonly channelOptions?: ChannelOptions;
}

type Api = typeof apiServices;

/**
 * The client: every method of every API service (InventoryService, and each service added
 * to proto/ later) as a promise-returning function or, for server streams, a function
 * returning an async iterable; plus the standard health service and lifecycle helpers.
 */
export type InventoryClient = ServicesClient<Api> & {
  /** grpc.health.v1.Health: `check` and the `watch` stream. */
  readonly health: ServiceClient<typeof HealthDefinition>;
  /** Resolves once the channel is connected, or rejects at the deadline. */
  waitForReady(deadline?: Date | number): Promise<void>;
  /** Closes the channel; calls in flight are cancelled. */
  close(): void;
  /** The underlying grpc-js client, for what this wrapper does not cover. */
  readonly grpcClient: Client;
};

const DEFAULT_DEADLINE_MS = 10_000;
const DEFAULT_KEEPALIVE = { timeMs: 60_000, timeoutMs: 20_000, permitWithoutCalls: false } as const;

function channelCredentials(options: InventoryClientOptions): ChannelCredentials {
  if (options.credentials !== undefined) return options.credentials;
  const tls = options.tls ?? false;
  if (tls === false) return grpcCredentials.createInsecure();
  if (tls === true) return grpcCredentials.createSsl();
  return grpcCredentials.createSsl(tls.rootCerts ?? null, tls.privateKey ?? null, tls.certChain ?? null);
}

function channelOptions(options: InventoryClientOptions): ChannelOptions {
  const out: ChannelOptions = {};
  if (options.keepalive !== false) {
    const k = options.keepalive;
    out['grpc.keepalive_time_ms'] = k?.timeMs ?? DEFAULT_KEEPALIVE.timeMs;
    out['grpc.keepalive_timeout_ms'] = k?.timeoutMs ?? DEFAULT_KEEPALIVE.timeoutMs;
    out['grpc.keepalive_permit_without_calls'] = (k?.permitWithoutCalls ?? DEFAULT_KEEPALIVE.permitWithoutCalls) ? 1 : 0;
  }
  return { ...out, ...options.channelOptions };
}

function toMetadata(target: Metadata, source: CallOptions['metadata'] | InventoryClientOptions['metadata']): void {
  if (source === undefined) return;
  if (source instanceof Metadata) {
    for (const [key, values] of Object.entries(source.toJSON())) for (const v of values) target.add(key, v);
    return;
  }
  for (const [key, value] of Object.entries(source)) {
    for (const v of typeof value === 'string' ? [value] : value) target.add(key, v);
  }
}

/** Binds every method of a service definition to the channel. */
function bindService(channel: Client, service: ServiceDefinition, options: InventoryClientOptions): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, method] of Object.entries(service.methods)) {
    if (method.requestStream && method.responseStream) continue; // no bidi streams in this API
    const own = options.methodKinds?.[`${service.fullName}/${method.name}`] ?? options.methodKinds?.[method.name];
    out[key] = bindMethod(channel, service, method, own ?? classifyMethod(service, method), options);
  }
  return out;
}

function bindMethod(channel: Client, service: ServiceDefinition, method: MethodDefinition, kind: MethodKind, options: InventoryClientOptions) {
  const path = `/${service.fullName}/${method.name}`;
  const plan = (partial: unknown, call: CallOptions = {}): CallPlan => {
    validateRequest(path, partial, messageFields, methodRequests);
    const request = method.requestType.fromPartial((partial ?? {}) as never) as Record<string, unknown>;
    if (kind.kind === 'keyed-write' && kind.autoKey && (options.autoIdempotencyKey ?? true) && request[kind.keyField] === '') {
      request[kind.keyField] = (options.newIdempotencyKey ?? randomUUID)();
    }
    const metadata = new Metadata();
    toMetadata(metadata, options.metadata);
    toMetadata(metadata, call.metadata);
    injectTraceContext(metadata); // now, in the caller's context: retries happen later, on timers
    const budget = call.deadlineMs ?? (method.responseStream ? (options.streamDeadlineMs ?? Infinity) : (options.deadlineMs ?? DEFAULT_DEADLINE_MS));
    return {
      channel,
      path,
      method,
      kind,
      request,
      metadata,
      deadline: call.deadline?.getTime() ?? Date.now() + budget,
      signal: call.signal,
      retry: resolveRetry(options.retry, call.retry),
    };
  };
  // A request the client rejects (validateRequest) rejects the promise, or fails the
  // stream's loop, like any other failed call: never a synchronous throw.
  if (method.requestStream) {
    const toRequest = (partial: unknown): object => {
      validateRequest(path, partial, messageFields, methodRequests);
      return method.requestType.fromPartial((partial ?? {}) as never) as object;
    };
    return async (source: AsyncIterable<unknown> | Iterable<unknown>, call?: CallOptions) =>
      clientStreamCall({ ...plan({}, { ...call, deadlineMs: call?.deadlineMs ?? options.streamDeadlineMs ?? Infinity }), kind: { kind: 'write' } }, source, toRequest);
  }
  return method.responseStream
    ? (request?: unknown, call?: CallOptions) => new ServerStreamCall(() => plan(request, call))
    : async (request?: unknown, call?: CallOptions) => unaryCall(plan(request, call));
}

/**
 * Connects to the Inventory Service at `address` (`host:port`). The connection is made
 * lazily, on the first call.
 *
 * @example
 * const inventory = createInventoryClient('inventory.internal:50051', { tls: true });
 * const { item } = await inventory.getItem({ sku: 'SKU-1' });
 */
export function createInventoryClient(address: string, options: InventoryClientOptions = {}): InventoryClient {
  const creds = channelCredentials(options);
  if (options.token !== undefined) checkTokenTransport(address, creds);
  const channel = new Client(address, creds, {
    ...channelOptions(options),
    ...(options.token !== undefined ? { interceptors: [tokenInterceptor(options.token)] } : {}),
  });
  const methods: Record<string, unknown> = {};
  for (const service of Object.values(apiServices) as ServiceDefinition[]) Object.assign(methods, bindService(channel, service, options));
  const client = {
    ...methods,
    health: bindService(channel, HealthDefinition, options),
    waitForReady: (deadline: Date | number = Date.now() + (options.deadlineMs ?? DEFAULT_DEADLINE_MS)) =>
      new Promise<void>((resolve, reject) => channel.waitForReady(deadline, (err) => (err ? reject(err) : resolve()))),
    close: () => channel.close(),
    grpcClient: channel,
  };
  return client as unknown as InventoryClient;
}
