import type { ServiceDefinition } from '@grpc/grpc-js';
import { DomainError } from '../inventory/errors.js';

/** What a request deserializer returns instead of throwing on bytes that are not its message. */
class MalformedRequest {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {}
}

/**
 * The service definition with request deserializers that never throw. grpc-js answers a
 * throwing deserializer itself, with INTERNAL "Error deserializing request" and without
 * calling the handler (so without a call log line); bytes that do not decode are the
 * caller's mistake, so the handler gets a MalformedRequest and answers INVALID_ARGUMENT
 * through the ordinary error path (see `wellFormed`).
 */
export function tolerantDeserializers<D extends ServiceDefinition>(definition: D): D {
  const wrapped: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(definition)) {
    wrapped[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer): unknown => {
        try {
          return method.requestDeserialize(bytes);
        } catch (err) {
          return new MalformedRequest(method.path, err instanceof Error ? err.message : String(err));
        }
      },
    };
  }
  return wrapped as D;
}

/** The request, or INVALID_ARGUMENT when its bytes did not decode. */
export function wellFormed<T>(request: T): T {
  if (request instanceof MalformedRequest) {
    const type = request.path.split('/').pop() ?? request.path;
    throw new DomainError('INVALID_ARGUMENT', `the request bytes are not a valid ${type}Request message: ${request.reason.slice(0, 200)}`, {});
  }
  return request;
}
