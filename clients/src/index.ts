/**
 * @inventory-service/client: the TypeScript client of the Inventory Service.
 * Start with {@link createInventoryClient}; failures are {@link InventoryError}s.
 */
export { createInventoryClient, type InventoryClient, type InventoryClientOptions, type KeepaliveOptions, type TlsOptions } from './client.js';
export {
  errorFromStatus,
  InventoryError,
  isInventoryError,
  STATUS_DETAILS_KEY,
  type FieldViolation,
  type InsufficientStock,
} from './errors.js';
export { afterPosition, fromNow, fromOldest, type SubscribeStart } from './positions.js';
export { classifyMethod, IDEMPOTENCY_KEY_FIELD, METHOD_KIND_OVERRIDES, type MethodKind } from './methods.js';
export type { TokenSource } from './token.js';
export { backoffMs, DEFAULT_RETRY, type RetryEvent, type RetryOptions } from './retry.js';
export type {
  CallOptions,
  ClientStreamMethod,
  MethodDefinition,
  MessageType,
  RequestInput,
  ResponseOf,
  ServerStream,
  ServiceClient,
  ServiceDefinition,
  StreamMethod,
  UnaryMethod,
} from './types.js';
/** Messages, enums and service definitions of the API, generated from proto/. */
export * from './gen/index.js';
export { HealthCheckResponse_ServingStatus as ServingStatus, HealthDefinition } from './gen/grpc/health/v1/health.js';
export type { Duration } from './gen/google/protobuf/duration.js';
export type { Status as RpcStatus } from './gen/google/rpc/status.js';
/** gRPC status codes (`Code.NOT_FOUND`, ...) and the metadata class, from @grpc/grpc-js. */
export { Metadata, status as Code } from '@grpc/grpc-js';
