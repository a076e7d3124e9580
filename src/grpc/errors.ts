import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { ErrorInfo, BadRequest } from '../gen/google/rpc/error_details.js';
import { Status } from '../gen/google/rpc/status.js';
import { DomainError, type ErrorCode } from '../inventory/errors.js';
import type { Logger } from '../log.js';
import { classifyDependencyError, type Dependency, type DependencyFault } from './dependency-errors.js';

/** The one table from domain error codes to gRPC status codes. */
export const STATUS_OF: Record<ErrorCode, status> = {
  INVALID_ARGUMENT: status.INVALID_ARGUMENT,
  NOT_FOUND: status.NOT_FOUND,
  ALREADY_EXISTS: status.ALREADY_EXISTS,
  VERSION_CONFLICT: status.ABORTED,
  FAILED_PRECONDITION: status.FAILED_PRECONDITION,
  IDEMPOTENCY_MISMATCH: status.FAILED_PRECONDITION,
  STALE_POSITION: status.OUT_OF_RANGE,
  NOT_OWNER: status.PERMISSION_DENIED,
  UNAVAILABLE: status.UNAVAILABLE,
  RESOURCE_EXHAUSTED: status.RESOURCE_EXHAUSTED,
};

export const ERROR_DOMAIN = 'inventory.v1';
const DEPENDENCY_NAME: Record<Dependency, string> = {
  postgresql: 'the database',
  dynamodb: 'the event store',
  network: 'a dependency',
};

const STATUS_DETAILS_KEY = 'grpc-status-details-bin';

/**
 * Builds the error a handler returns. Domain errors keep their message and carry their
 * structured details as a google.rpc.Status in `grpc-status-details-bin` (ErrorInfo with
 * reason = the domain code and the details as metadata; BadRequest for a bad field), which
 * grpcurl prints and the client package decodes. Anything else is logged with its stack
 * and reaches the caller as INTERNAL without internals.
 */
export function toServiceError(
  err: unknown,
  log: Logger,
  onFault?: (fault: DependencyFault) => void,
): Partial<ServiceError> & { code: status; details: string } {
  if (err instanceof DomainError) {
    const rpcStatus = toRpcStatus(err);
    const metadata = new Metadata();
    metadata.set(STATUS_DETAILS_KEY, Buffer.from(Status.encode(rpcStatus).finish()));
    return { code: rpcStatus.code, details: err.message, metadata };
  }
  const fault = classifyDependencyError(err);
  if (fault !== undefined) {
    onFault?.(fault);
    const cause = { err: describe(err), dependency: fault.dependency, reason: fault.reason };
    switch (fault.kind) {
      case 'unavailable':
        log.warn(cause, 'dependency unavailable');
        return { code: status.UNAVAILABLE, details: `${DEPENDENCY_NAME[fault.dependency]} is unavailable; retry later` };
      case 'statement-timeout':
        log.warn(cause, 'statement timeout');
        return { code: status.DEADLINE_EXCEEDED, details: 'the database statement timed out; nothing was changed' };
      case 'conflict':
        log.warn(cause, 'transaction conflict');
        return { code: status.ABORTED, details: 'the transaction conflicted with a concurrent one and was rolled back; retry' };
      default: {
        const never: never = fault;
        return never;
      }
    }
  }
  log.error({ err: describe(err) }, 'unexpected failure');
  return { code: status.INTERNAL, details: 'internal error; see the service log' };
}

/**
 * A domain error as a google.rpc.Status: what `grpc-status-details-bin` carries, and what
 * a batch call returns for one failed entry.
 */
export function toRpcStatus(err: DomainError): Status {
  const code = STATUS_OF[err.code];
  const metadataMap: Record<string, string> = {};
  for (const [k, v] of Object.entries(err.details)) metadataMap[k] = String(v);
  const details = [
    { typeUrl: 'type.googleapis.com/google.rpc.ErrorInfo', value: Buffer.from(ErrorInfo.encode({ reason: err.code, domain: ERROR_DOMAIN, metadata: metadataMap }).finish()) },
  ];
  if (err.code === 'INVALID_ARGUMENT' && typeof err.details.field === 'string') {
    details.push({
      typeUrl: 'type.googleapis.com/google.rpc.BadRequest',
      value: Buffer.from(BadRequest.encode({ fieldViolations: [{ field: err.details.field, description: err.message }] }).finish()),
    });
  }
  return { code, message: err.message, details };
}

function describe(err: unknown): Record<string, unknown> {
  if (err instanceof Error) return { name: err.name, message: err.message, stack: err.stack };
  return { value: String(err) };
}
