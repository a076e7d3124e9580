import { isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';
import { ConnectionException, DriverException } from '@mikro-orm/core';

/**
 * The one classifier of dependency failures (PostgreSQL through pg, knex and MikroORM;
 * DynamoDB through the AWS SDK; the network below both). It decides by error class, SQLSTATE,
 * system error code and the AWS SDK's own retry classification; message text is used only
 * for the few pg and pg-pool errors that carry nothing else. What it does not recognise is
 * not a dependency failure (the edge answers INTERNAL and logs the details).
 */
export type DependencyFault =
  /** The dependency cannot serve right now; the same call may succeed later. */
  | { readonly kind: 'unavailable'; readonly dependency: Dependency; readonly reason: string }
  /** DATABASE_STATEMENT_TIMEOUT_MS cut a statement short; nothing was committed. */
  | { readonly kind: 'statement-timeout'; readonly dependency: 'postgresql'; readonly reason: string }
  /** Serialization failure or deadlock: the transaction rolled back and may be retried. */
  | { readonly kind: 'conflict'; readonly dependency: 'postgresql'; readonly reason: string };

export type Dependency = 'postgresql' | 'dynamodb' | 'network';

/** Node's socket-level failures: nothing reached the server, or the connection broke. */
const SYSTEM_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
]);

/**
 * SQLSTATEs (PostgreSQL appendix A) after which a retry can succeed: class 08 (connection
 * exception), class 53 (insufficient resources: 53300 too many connections, 53100 disk
 * full, ...), 57P01-57P03 (admin/crash shutdown, cannot connect now), 57P05 (idle session
 * timeout) and 25006 (read-only transaction: a primary that became a standby).
 */
function sqlStateFault(state: string): DependencyFault | undefined {
  if (state === '57014') return { kind: 'statement-timeout', dependency: 'postgresql', reason: `SQLSTATE ${state}` };
  if (state === '40001' || state === '40P01') return { kind: 'conflict', dependency: 'postgresql', reason: `SQLSTATE ${state}` };
  if (state.startsWith('08') || state.startsWith('53') || ['57P01', '57P02', '57P03', '57P05', '25006'].includes(state)) {
    return { kind: 'unavailable', dependency: 'postgresql', reason: `SQLSTATE ${state}` };
  }
  return undefined;
}

/**
 * Errors pg and pg-pool create with `new Error(text)` and nothing else to tell them by
 * (pg/lib/client.js, pg-pool/index.js): matched exactly, never by substring of other errors.
 */
const PG_CONNECTION_MESSAGES = [
  'Connection terminated',
  'Connection terminated unexpectedly',
  'Connection terminated due to connection timeout',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
  'timeout exceeded when trying to connect',
  'timeout expired', // pg's connectionTimeoutMillis
];

/** knex's KnexTimeoutError, which MikroORM re-wraps as a DriverException under its own name. */
const KNEX_ACQUIRE_TIMEOUT = 'Knex: Timeout acquiring a connection.';

interface ErrorLike {
  readonly name?: unknown;
  readonly code?: unknown;
  readonly message?: unknown;
  readonly severity?: unknown;
  readonly sqlState?: unknown;
  readonly cause?: unknown;
  readonly errors?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: number };
  readonly $fault?: unknown;
}

function classifyOne(e: ErrorLike): DependencyFault | undefined {
  const code = typeof e.code === 'string' ? e.code : undefined;
  const name = typeof e.name === 'string' ? e.name : '';
  const message = typeof e.message === 'string' ? e.message : '';
  const isAws = e.$metadata !== undefined && typeof e.$metadata === 'object';
  if (code !== undefined && SYSTEM_CODES.has(code)) {
    return { kind: 'unavailable', dependency: isAws ? 'dynamodb' : 'network', reason: code };
  }
  // pg's DatabaseError carries the SQLSTATE in `code` (and a `severity`); MikroORM's
  // DriverException copies both and may add `sqlState`.
  const state = typeof e.sqlState === 'string' ? e.sqlState : typeof e.severity === 'string' ? code : undefined;
  if (state !== undefined && /^[0-9A-Z]{5}$/.test(state)) return sqlStateFault(state);
  if (e instanceof ConnectionException) return { kind: 'unavailable', dependency: 'postgresql', reason: name };
  const knexTimeout = name === 'KnexTimeoutError' || (e instanceof DriverException && message.startsWith(KNEX_ACQUIRE_TIMEOUT));
  if (knexTimeout) return { kind: 'unavailable', dependency: 'postgresql', reason: 'connection pool timeout' };
  if (PG_CONNECTION_MESSAGES.includes(message)) return { kind: 'unavailable', dependency: 'postgresql', reason: message };
  // The AWS SDK: its errors (service exceptions with $metadata, and the TimeoutError its
  // HTTP handler throws) are judged by the SDK's own retry classification.
  if (isAws || name === 'TimeoutError') {
    const error = e as Parameters<typeof isTransientError>[0];
    if (isThrottlingError(error)) return { kind: 'unavailable', dependency: 'dynamodb', reason: `throttled: ${name}` };
    if (isTransientError(error) || isServerError(error) || e.$fault === 'server') {
      return { kind: 'unavailable', dependency: 'dynamodb', reason: `${name}${e.$metadata?.httpStatusCode ? ` (HTTP ${e.$metadata.httpStatusCode})` : ''}` };
    }
  }
  return undefined;
}

/** Classifies `err`, looking through `cause` chains and AggregateError's `errors`. */
export function classifyDependencyError(err: unknown, depth = 0): DependencyFault | undefined {
  if (err === null || typeof err !== 'object' || depth > 8) return undefined;
  const e = err as ErrorLike;
  const own = classifyOne(e);
  if (own !== undefined) return own;
  if (Array.isArray(e.errors)) {
    for (const inner of e.errors) {
      const found = classifyDependencyError(inner, depth + 1);
      if (found !== undefined) return found;
    }
  }
  return classifyDependencyError(e.cause, depth + 1);
}
