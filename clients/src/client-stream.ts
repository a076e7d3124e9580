import type { ClientWritableStream, ServiceError } from '@grpc/grpc-js';
import type { CallPlan } from './calls.js';
import { fromServiceError } from './errors.js';

function serializer(plan: CallPlan): (value: object) => Buffer {
  return (value) => {
    const bytes = plan.method.requestType.encode(value).finish();
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
}

/**
 * Runs a client-streaming call: writes every message the source yields, waiting whenever
 * the transport pushes back (so a large import is read from its source no faster than the
 * server applies it), then half-closes and resolves with the one response. Never retried:
 * the source may not be replayable; rerun the call yourself (ImportStockCounts with the
 * same import_id applies nothing twice). `toRequest` checks and completes each message.
 */
export function clientStreamCall(plan: CallPlan, source: AsyncIterable<unknown> | Iterable<unknown>, toRequest: (partial: unknown) => object): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let call: ClientWritableStream<object> | undefined;
    const onAbort = () => call?.cancel();
    let done = false;
    const finish = (err: unknown, response?: unknown) => {
      if (done) return;
      done = true;
      plan.signal?.removeEventListener('abort', onAbort);
      if (err === null) resolve(response);
      else if (plan.signal?.aborted) reject(plan.signal.reason ?? new DOMException('This operation was aborted', 'AbortError'));
      else reject(err instanceof Error && 'code' in err ? fromServiceError(err, { method: plan.path, attempts: 1 }) : err);
    };
    call = plan.channel.makeClientStreamRequest(
      plan.path,
      serializer(plan),
      (bytes: Buffer) => plan.method.responseType.decode(bytes),
      plan.metadata.clone(),
      { deadline: Number.isFinite(plan.deadline) ? new Date(plan.deadline) : Infinity },
      (err: ServiceError | null, response?: unknown) => finish(err, response),
    ) as ClientWritableStream<object>;
    const stream = call;
    if (plan.signal?.aborted) stream.cancel();
    plan.signal?.addEventListener('abort', onAbort, { once: true });
    void (async () => {
      for await (const partial of source) {
        if (done) return;
        if (!stream.write(toRequest(partial))) {
          await new Promise<void>((r) => {
            stream.once('drain', r);
            stream.once('close', r);
          });
        }
      }
      stream.end();
    })().catch((err: unknown) => {
      // The source (or a message check) failed: stop the call, report that error.
      finish(err);
      stream.cancel();
    });
  });
}
