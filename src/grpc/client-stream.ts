import type { handleClientStreamingCall, ServerReadableStream } from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { headers, logCall, scope, type CallScope, type EdgeDeps } from './call.js';
import { toServiceError } from './errors.js';
import { wellFormed } from './malformed-requests.js';

/**
 * Wraps a client-streaming handler that consumes the requests as an async iterable and
 * resolves with the one response. The handler pulls messages when it is ready for them:
 * while it works, grpc-js stops reading (the readable's buffer is full) and HTTP/2 flow
 * control holds the client back. A malformed message fails the call as INVALID_ARGUMENT;
 * a client that cancels ends the iteration (the call is logged as CANCELLED).
 */
export function clientStream<Req, Res>(
  deps: EdgeDeps,
  method: string,
  handler: (requests: AsyncIterable<Req>, s: CallScope) => Promise<Res>,
): handleClientStreamingCall<Req, Res> {
  return (call, callback) => {
    const started = process.hrtime.bigint();
    const s = scope(deps, call as ServerReadableStream<unknown, unknown>);
    call.sendMetadata(headers(s));
    async function* requests(): AsyncIterable<Req> {
      for await (const message of call as AsyncIterable<Req>) yield wellFormed(message);
    }
    handler(requests(), s).then(
      (res) => {
        logCall(deps.log, method, status.OK, started, s);
        callback(null, res);
      },
      (err: unknown) => {
        if (call.cancelled) return logCall(deps.log, method, status.CANCELLED, started, s);
        const e = toServiceError(err, deps.log.child({ method, correlationId: s.ctx.correlationId }), deps.onDependencyFault);
        logCall(deps.log, method, e.code, started, s, e.details);
        callback(e);
      },
    ).finally(() => s.release());
  };
}
