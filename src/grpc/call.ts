import { randomUUID } from 'node:crypto';
import {
  Metadata,
  status,
  type handleServerStreamingCall,
  type handleUnaryCall,
  type ServerReadableStream,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceError,
} from '@grpc/grpc-js';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from '../log.js';
import type { CallContext } from '../persistence/unit-of-work.js';
import { principalOf } from './auth/principal.js';
import type { DependencyFault } from './dependency-errors.js';
import { toServiceError } from './errors.js';
import { wellFormed } from './malformed-requests.js';

/** What a handler gets for one call: its own EntityManager and the caller's context. */
export interface CallScope {
  readonly em: EntityManager;
  readonly ctx: CallContext;
  readonly metadata: Metadata;
  /** Aborted when the client cancels or the deadline passes (streams: also at server shutdown). */
  readonly signal: AbortSignal;
  /** The call's deadline in epoch milliseconds; Infinity without one. */
  readonly deadline: number;
}

export interface EdgeDeps {
  readonly orm: MikroORM;
  readonly log: Logger;
  /**
   * Aborted when the server begins to shut down: open streams end with UNAVAILABLE so
   * clients reconnect (to another instance, or to this one once it is back).
   */
  readonly closing?: AbortSignal;
  /** Told about every dependency fault a call met (readiness probes at once). */
  readonly onDependencyFault?: (fault: DependencyFault) => void;
}

const CORRELATION_HEADER = 'x-correlation-id';

function correlationId(metadata: Metadata): string {
  const given = metadata.get(CORRELATION_HEADER)[0];
  if (typeof given === 'string' && /^[\x21-\x7e]{1,100}$/.test(given)) return given;
  return randomUUID();
}

function contextOf(metadata: Metadata): CallContext {
  const p = principalOf(metadata);
  return { correlationId: correlationId(metadata), actor: p.identity, actsForOthers: p.actsForOthers };
}

/** The scope of one call (exported for the other call shapes, src/grpc/client-stream.ts). */
export function scope(
  deps: EdgeDeps,
  call: ServerUnaryCall<unknown, unknown> | ServerWritableStream<unknown, unknown> | ServerReadableStream<unknown, unknown>,
  alsoAbortOn?: AbortSignal,
): CallScope & { release(): void } {
  let em: EntityManager | undefined;
  let controller: AbortController | undefined;
  const abort = () => controller?.abort();
  return {
    /** Unhooks the call from the server-wide signal once it is over. */
    release: () => alsoAbortOn?.removeEventListener('abort', abort),
    // Forked on first use: a call answered from the read cache never pays for a fork.
    get em() {
      return (em ??= deps.orm.em.fork());
    },
    ctx: contextOf(call.metadata),
    metadata: call.metadata,
    get deadline() {
      const d = call.getDeadline();
      return d instanceof Date ? d.getTime() : d;
    },
    // Created on first use too: an AbortController costs microseconds, a cached read less.
    get signal() {
      if (controller === undefined) {
        const c = (controller = new AbortController());
        if (call.cancelled || alsoAbortOn?.aborted) c.abort();
        else {
          (call as ServerUnaryCall<unknown, unknown>).on('cancelled', abort);
          alsoAbortOn?.addEventListener('abort', abort, { once: true });
        }
      }
      return controller.signal;
    },
  };
}

export function headers(s: CallScope): Metadata {
  const m = new Metadata();
  m.set(CORRELATION_HEADER, s.ctx.correlationId);
  return m;
}

/**
 * Wraps a promise-returning handler: one forked EntityManager per call, one JSON log line
 * per call (method, status, duration), and every thrown error mapped to a status.
 */
export function unary<Req, Res>(
  deps: EdgeDeps,
  method: string,
  handler: (req: Req, s: CallScope) => Promise<Res>,
): handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const started = process.hrtime.bigint();
    const s = scope(deps, call as ServerUnaryCall<unknown, unknown>);
    // The response headers go out with the answer, not before the work: sent first, they
    // cost a socket write of their own and woke the caller for nothing, on every call.
    // A malformed request throws before the handler runs; it takes the ordinary error path.
    new Promise<Res>((resolve) => resolve(handler(wellFormed(call.request as Req), s))).then(
      (res) => {
        logCall(deps.log, method, status.OK, started, s);
        call.sendMetadata(headers(s));
        callback(null, res);
      },
      (err: unknown) => {
        const e = toServiceError(err, deps.log.child({ method, correlationId: s.ctx.correlationId }), deps.onDependencyFault);
        logCall(deps.log, method, e.code, started, s, e.details);
        call.sendMetadata(headers(s));
        callback(e);
      },
    );
  };
}

/**
 * Wraps a server-streaming handler written as an async generator. Writes respect
 * backpressure (the generator is not asked for the next message while the transport
 * buffer is full) and the generator is stopped when the client cancels. When the server
 * shuts down, the handler's signal aborts and the call ends with UNAVAILABLE.
 */
export function serverStream<Req, Res>(
  deps: EdgeDeps,
  method: string,
  handler: (req: Req, s: CallScope) => AsyncIterable<Res>,
): handleServerStreamingCall<Req, Res> {
  return (call) => {
    const started = process.hrtime.bigint();
    let clientGone = false;
    call.on('cancelled', () => (clientGone = true));
    const s = scope(deps, call as ServerWritableStream<unknown, unknown>, deps.closing);
    // Hook cancellation and shutdown now: a stream may wait a long time for its first message.
    void s.signal;
    call.sendMetadata(headers(s));
    const fail = (e: Partial<ServiceError> & { code: status; details: string }) => {
      logCall(deps.log, method, e.code, started, s, e.details);
      if (!clientGone) call.emit('error', Object.assign(new Error(e.details), e));
    };
    const shuttingDown = () =>
      fail({ code: status.UNAVAILABLE, details: 'the server is shutting down; reconnect (SubscribeEvents: resume after the last position you received)' });
    void (async () => {
      try {
        for await (const message of handler(wellFormed(call.request), s)) {
          if (s.signal.aborted) break;
          if (!call.write(message)) {
            await new Promise<void>((resolve) => {
              const done = () => {
                call.off('drain', done);
                s.signal.removeEventListener('abort', done);
                resolve();
              };
              call.on('drain', done);
              s.signal.addEventListener('abort', done);
            });
          }
        }
        if (s.signal.aborted) {
          if (clientGone) logCall(deps.log, method, status.CANCELLED, started, s);
          else shuttingDown();
          return;
        }
        logCall(deps.log, method, status.OK, started, s);
        call.end();
      } catch (err) {
        if (s.signal.aborted && !clientGone) return shuttingDown();
        if (clientGone) return logCall(deps.log, method, status.CANCELLED, started, s);
        fail(toServiceError(err, deps.log.child({ method, correlationId: s.ctx.correlationId }), deps.onDependencyFault));
      } finally {
        s.release();
      }
    })();
  };
}

export function logCall(log: Logger, method: string, code: status, started: bigint, s: CallScope, message?: string): void {
  if (!log.isLevelEnabled('info')) return; // spare the hot path building a line nobody keeps
  const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
  log.info(
    { method, status: status[code], code, durationMs: Math.round(durationMs * 100) / 100, correlationId: s.ctx.correlationId, actor: s.ctx.actor, ...(message ? { message } : {}) },
    'call',
  );
}
