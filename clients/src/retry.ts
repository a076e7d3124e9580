import { status } from '@grpc/grpc-js';
import type { InventoryError } from './errors.js';

/** When and how a failed attempt is tried again. */
export interface RetryOptions {
  /** Attempts in total, the first one included; 1 disables retries. Default 4. */
  readonly maxAttempts: number;
  /** Upper bound of the first backoff. Default 100 ms. */
  readonly initialBackoffMs: number;
  /** Cap of any backoff. Default 2000 ms. */
  readonly maxBackoffMs: number;
  /** Growth of the bound from one retry to the next. Default 2. */
  readonly multiplier: number;
  /**
   * Status codes worth another attempt. Default: UNAVAILABLE only (server unreachable,
   * connection lost, database briefly down). ABORTED is left out on purpose: here it means a
   * stale `expected_version`, which the same request can never fix.
   */
  readonly retryableCodes: readonly status[];
  /** Called before each retry (for logs and metrics). */
  readonly onRetry?: (event: RetryEvent) => void;
}

export interface RetryEvent {
  /** Full method path, e.g. `/inventory.v1.InventoryService/GetItem`. */
  readonly method: string;
  /** The attempt that failed (1 for the first). */
  readonly attempt: number;
  /** How long the client waits before the next attempt. */
  readonly delayMs: number;
  readonly error: InventoryError;
}

export const DEFAULT_RETRY: RetryOptions = Object.freeze({
  maxAttempts: 4,
  initialBackoffMs: 100,
  maxBackoffMs: 2000,
  multiplier: 2,
  retryableCodes: Object.freeze([status.UNAVAILABLE]),
});

/** Resolves call-level over client-level over default settings; `false` means one attempt. */
export function resolveRetry(...layers: Array<Partial<RetryOptions> | false | undefined>): RetryOptions {
  let out: RetryOptions = DEFAULT_RETRY;
  for (const layer of layers) {
    if (layer === undefined) continue;
    out = layer === false ? { ...out, maxAttempts: 1 } : { ...out, ...layer };
  }
  return out;
}

/**
 * The wait before retry number `attempt` (1 = after the first failure): "full jitter", a
 * uniform draw below an exponentially growing bound, as gRPC's own retry design does, so
 * that many clients failing together do not come back in lockstep.
 */
export function backoffMs(policy: RetryOptions, attempt: number, random: () => number = Math.random): number {
  const bound = Math.min(policy.maxBackoffMs, policy.initialBackoffMs * policy.multiplier ** (attempt - 1));
  return Math.floor(random() * bound);
}
