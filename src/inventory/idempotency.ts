import { createHash } from 'node:crypto';
import { claimIdempotencyKey, completeIdempotencyKey } from '../persistence/repositories/idempotency.repository.js';
import type { Tx } from '../persistence/unit-of-work.js';
import { DomainError } from './errors.js';

/** sha256 of a request in canonical form (the caller builds it with a fixed key order). */
export const fingerprint = (request: unknown): string => createHash('sha256').update(JSON.stringify(request)).digest('hex');

/**
 * Runs `work` at most once per idempotency key of the calling actor, inside the caller's transaction. The key
 * row is claimed first, so a concurrent duplicate waits for this transaction and then
 * gets its stored response; a key reused with a different request (or operation) is
 * IDEMPOTENCY_MISMATCH. A call that fails stores nothing: its transaction rolls back with
 * the key, and a retry is evaluated afresh.
 */
export async function once<T>(
  tx: Tx,
  key: string | undefined,
  operation: string,
  request: unknown,
  codec: { encode(value: T): unknown; decode(stored: unknown): T },
  work: () => Promise<T>,
): Promise<T> {
  if (key === undefined) return work();
  const hash = fingerprint({ operation, request });
  const stored = await claimIdempotencyKey(tx.em, tx.ctx.actor, key, operation, hash, tx.now);
  if (stored !== null) {
    if (stored.requestHash !== hash) {
      throw new DomainError(
        'IDEMPOTENCY_MISMATCH',
        `idempotency_key ${JSON.stringify(key)} was already used for a different ${stored.operation === operation ? operation : stored.operation} request`,
        { field: 'idempotency_key', operation: stored.operation },
      );
    }
    return codec.decode(stored.response);
  }
  const result = await work();
  await completeIdempotencyKey(tx.em, tx.ctx.actor, key, codec.encode(result));
  return result;
}
