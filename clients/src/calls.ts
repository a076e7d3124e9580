import { setTimeout as sleep } from 'node:timers/promises';
import { Metadata, status, type Client, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { fromServiceError, InventoryError } from './errors.js';
import { carriedKey, mayRepeat, type MethodKind } from './methods.js';
import { backoffMs, type RetryOptions } from './retry.js';
import type { MethodDefinition, ServerStream } from './types.js';

/** Everything one logical call needs, resolved from the client's and the call's options. */
export interface CallPlan {
  readonly channel: Client;
  readonly path: string;
  readonly method: MethodDefinition;
  readonly kind: MethodKind;
  /** The encoded-ready request, idempotency key already filled in. */
  readonly request: object;
  readonly metadata: Metadata;
  /** Epoch milliseconds; Infinity for none. */
  readonly deadline: number;
  readonly signal: AbortSignal | undefined;
  readonly retry: RetryOptions;
  readonly random?: () => number;
}

function serializer(method: MethodDefinition): (value: object) => Buffer {
  return (value) => {
    const bytes = method.requestType.encode(value).finish();
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
}

function deserializer(method: MethodDefinition): (bytes: Buffer) => unknown {
  return (bytes) => method.responseType.decode(bytes);
}

function context(plan: CallPlan, attempts: number) {
  const idempotencyKey = carriedKey(plan.kind, plan.request);
  return idempotencyKey === undefined ? { method: plan.path, attempts } : { method: plan.path, attempts, idempotencyKey };
}

/**
 * The wait before the next attempt, or undefined when the failure is final: the code is not
 * transient, the request is not safe to repeat, the attempts are used up, or the wait would
 * run past the deadline.
 */
function nextDelay(plan: CallPlan, error: InventoryError, attempt: number): number | undefined {
  if (!plan.retry.retryableCodes.includes(error.code)) return undefined;
  if (attempt >= plan.retry.maxAttempts || !mayRepeat(plan.kind, plan.request)) return undefined;
  const delay = backoffMs(plan.retry, attempt, plan.random);
  if (Date.now() + delay >= plan.deadline) return undefined;
  plan.retry.onRetry?.({ method: plan.path, attempt, delayMs: delay, error });
  return delay;
}

function aborted(signal: AbortSignal | undefined): unknown {
  return signal?.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

function grpcDeadline(deadline: number): Date | number {
  return Number.isFinite(deadline) ? new Date(deadline) : Infinity;
}

function attemptUnary(plan: CallPlan): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const onAbort = () => call.cancel();
    const call = plan.channel.makeUnaryRequest(
      plan.path,
      serializer(plan.method),
      deserializer(plan.method),
      plan.request,
      plan.metadata.clone(),
      { deadline: grpcDeadline(plan.deadline) },
      (err: ServiceError | null, response?: unknown) => {
        plan.signal?.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve(response);
      },
    );
    plan.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Runs a unary call, retrying transient failures as the plan allows. */
export async function unaryCall(plan: CallPlan): Promise<unknown> {
  for (let attempt = 1; ; attempt++) {
    if (plan.signal?.aborted) throw aborted(plan.signal);
    try {
      return await attemptUnary(plan);
    } catch (err) {
      if (plan.signal?.aborted) throw aborted(plan.signal);
      const error = fromServiceError(err, context(plan, attempt));
      const delay = nextDelay(plan, error, attempt);
      if (delay === undefined) throw error;
      await sleep(delay, undefined, { signal: plan.signal }).catch(() => undefined);
    }
  }
}

/**
 * A server stream as an async iterable. The call starts when iteration starts. A transient
 * failure before the first message is retried like a read; once messages have been
 * delivered, a failure ends the loop with the error (the caller knows how far it got and
 * resumes from there). Leaving the loop early cancels the call.
 */
export class ServerStreamCall<T> implements ServerStream<T> {
  private current: ClientReadableStream<T> | undefined;
  private cancelled = false;
  private iterated = false;

  /** The plan is made when iteration starts, so that a rejected request fails the loop. */
  constructor(private readonly makePlan: () => CallPlan) {}

  cancel(): void {
    this.cancelled = true;
    this.current?.cancel();
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    if (this.iterated) throw new Error('a server stream can be iterated only once; call the method again');
    this.iterated = true;
    return this.run();
  }

  private async *run(): AsyncGenerator<T> {
    const plan = this.makePlan();
    let delivered = false;
    for (let attempt = 1; ; attempt++) {
      if (this.cancelled) return;
      if (plan.signal?.aborted) throw aborted(plan.signal);
      const call = plan.channel.makeServerStreamRequest(
        plan.path,
        serializer(plan.method),
        deserializer(plan.method),
        plan.request,
        plan.metadata.clone(),
        { deadline: grpcDeadline(plan.deadline) },
      ) as ClientReadableStream<T>;
      this.current = call;
      // Errors are read through the iterator below; this keeps the CANCELLED status that
      // follows our own cancel() from surfacing as an unhandled 'error' event.
      call.on('error', () => undefined);
      const onAbort = () => call.cancel();
      plan.signal?.addEventListener('abort', onAbort, { once: true });
      let settled = false;
      try {
        for await (const message of call) {
          delivered = true;
          yield message as T;
        }
        settled = true;
        return;
      } catch (err) {
        settled = true;
        if (plan.signal?.aborted) throw aborted(plan.signal);
        const error = fromServiceError(err, context(plan, attempt));
        if (this.cancelled && error.code === status.CANCELLED) return;
        const delay = delivered ? undefined : nextDelay(plan, error, attempt);
        if (delay === undefined) throw error;
        await sleep(delay, undefined, { signal: plan.signal }).catch(() => undefined);
      } finally {
        plan.signal?.removeEventListener('abort', onAbort);
        // The consumer left the loop (break, return or throw): end the call on the server too.
        if (!settled) call.cancel();
      }
    }
  }
}
