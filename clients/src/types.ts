import type { Metadata } from '@grpc/grpc-js';
import type { RetryOptions } from './retry.js';

/** What the client needs of a generated (ts-proto) message: its codec and `fromPartial`. */
export interface MessageType<T = unknown> {
  encode(message: T): { finish(): Uint8Array };
  decode(input: Uint8Array): T;
  fromPartial(object: never): T;
}

/** One method of a ts-proto generic service definition (`outputServices=generic-definitions`). */
export interface MethodDefinition {
  readonly name: string;
  readonly requestType: MessageType;
  readonly responseType: MessageType;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
}

/** A ts-proto generic service definition, such as `InventoryServiceDefinition`. */
export interface ServiceDefinition {
  readonly name: string;
  readonly fullName: string;
  readonly methods: { readonly [method: string]: MethodDefinition };
}

/** The request a method takes: every field optional, int64 as a number (a safe integer). */
export type RequestInput<M extends MethodDefinition> = Parameters<M['requestType']['fromPartial']>[0];
/** The message a method answers with. */
export type ResponseOf<M extends MethodDefinition> = ReturnType<M['responseType']['decode']>;

/** Options of one call; they override the client's defaults. */
export interface CallOptions {
  /**
   * Budget of the whole call in milliseconds, retries and backoff included. Defaults to the
   * client's `deadlineMs` (unary) or `streamDeadlineMs` (streams). `Infinity` means none.
   */
  readonly deadlineMs?: number;
  /** Absolute deadline; takes precedence over `deadlineMs`. */
  readonly deadline?: Date;
  /** Metadata sent with the call, added to the client's `metadata`. */
  readonly metadata?: Metadata | Readonly<Record<string, string | readonly string[]>>;
  /** Aborting cancels the call; the promise (or the stream loop) rejects with `signal.reason`. */
  readonly signal?: AbortSignal;
  /** Retry settings for this call, or `false` for a single attempt. */
  readonly retry?: Partial<RetryOptions> | false;
}

/**
 * A server stream: iterate it with `for await`. Leaving the loop early (break, return,
 * throw) cancels the call on the server. Iterate it once.
 */
export interface ServerStream<T> extends AsyncIterable<T> {
  /** Cancels the call; a loop waiting for the next message ends without error. */
  cancel(): void;
}

/** A unary method as a promise-returning function. */
export type UnaryMethod<M extends MethodDefinition> = (request?: RequestInput<M>, options?: CallOptions) => Promise<ResponseOf<M>>;
/** A server-streaming method as a function returning an async iterable. */
export type StreamMethod<M extends MethodDefinition> = (request?: RequestInput<M>, options?: CallOptions) => ServerStream<ResponseOf<M>>;

/**
 * A client-streaming method: give it the requests as an (async) iterable, such as a
 * generator reading a file; they are sent as the server takes them (back-pressure), and
 * the promise resolves with the one response. Never retried by the client.
 */
export type ClientStreamMethod<M extends MethodDefinition> = (
  requests: AsyncIterable<RequestInput<M>> | Iterable<RequestInput<M>>,
  options?: CallOptions,
) => Promise<ResponseOf<M>>;

/**
 * The methods of one service: unary ones return promises, server streams async iterables,
 * client streams take an iterable of requests and return a promise. (Bidi: none in the API.)
 */
export type ServiceClient<S extends ServiceDefinition> = {
  readonly [K in keyof S['methods'] as S['methods'][K]['requestStream'] extends true
    ? S['methods'][K]['responseStream'] extends true
      ? never
      : K
    : K]: S['methods'][K]['requestStream'] extends true
    ? ClientStreamMethod<S['methods'][K]>
    : S['methods'][K]['responseStream'] extends true
      ? StreamMethod<S['methods'][K]>
      : UnaryMethod<S['methods'][K]>;
};

export type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;

/** The methods of several services merged into one object. */
export type ServicesClient<T extends { readonly [name: string]: ServiceDefinition }> = UnionToIntersection<
  { [K in keyof T]: ServiceClient<T[K]> }[keyof T]
>;
