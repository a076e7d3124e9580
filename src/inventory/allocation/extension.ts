import type { EntityManager } from '@mikro-orm/postgresql';
import { streamIds } from '../../events/types.js';
import { Allocation } from '../../persistence/entities/allocation.entity.js';
import type { AllocationRecord } from '../../persistence/repositories/allocation.repository.js';
import type { CallContext, UnitOfWork } from '../../persistence/unit-of-work.js';
import { DomainError, invalid, notFound } from '../errors.js';
import { once } from '../idempotency.js';
import * as sv from '../stock-validation.js';
import * as v from '../validation.js';
import { holds } from './holds.js';
import { mustOwn } from './ownership.js';
import { allocationCodec } from './record-codec.js';

export type ExpiryInput =
  | { readonly kind: 'expireTime'; readonly value: Date }
  | { readonly kind: 'ttl'; readonly value: { seconds: bigint | number; nanos: number } }
  | { readonly kind: 'noExpiry'; readonly value: boolean };

export interface ExtendInput {
  allocationId: string;
  expiry: ExpiryInput | undefined;
  expectedVersion: number | bigint | undefined;
  idempotencyKey: string;
}

/** The new hold: an absolute time, a time from now (ms), or none. */
type Hold = { readonly at: Date } | { readonly ttlMs: number } | 'none';

function validateHold(expiry: ExpiryInput | undefined): Hold {
  if (expiry === undefined) throw invalid('expire_time', 'set exactly one of expire_time, ttl or no_expiry');
  switch (expiry.kind) {
    case 'expireTime':
      return { at: sv.time('expire_time', expiry.value) };
    case 'ttl':
      return { ttlMs: sv.ttlMs(expiry.value)! };
    case 'noExpiry':
      if (!expiry.value) throw invalid('no_expiry', 'must be true when set (false is no choice: set expire_time or ttl instead)');
      return 'none';
    default: {
      const never: never = expiry;
      throw new Error(`unexpected expiry ${JSON.stringify(never)}`);
    }
  }
}

/** The hold as a time, judged against the transaction's clock: after now, at most 30 days ahead. */
function expireTimeOf(hold: Hold, now: Date): Date | null {
  if (hold === 'none') return null;
  if ('ttlMs' in hold) return new Date(now.getTime() + hold.ttlMs);
  if (hold.at.getTime() <= now.getTime()) {
    throw invalid('expire_time', `must be after now (${now.toISOString()}); got ${hold.at.toISOString()}. To end the hold now, use ReleaseAllocation`);
  }
  if (hold.at.getTime() > now.getTime() + sv.MAX_TTL_MS) {
    throw invalid('expire_time', `must be at most 30 days from now (${new Date(now.getTime() + sv.MAX_TTL_MS).toISOString()}); got ${hold.at.toISOString()}`);
  }
  return hold.at;
}

/**
 * ExtendAllocation: a new expire_time (or none) for an allocation that still holds units
 * (ALLOCATED or PARTIALLY_FULFILLED). The allocation row is locked, so an expiry sweep on
 * any instance either ran before (the allocation is EXPIRED: FAILED_PRECONDITION) or sees
 * the new time (the sweep's SKIP LOCKED query re-checks expire_time on the row it locks).
 */
export function extendAllocation(uow: UnitOfWork, em: EntityManager, ctx: CallContext, input: ExtendInput): Promise<AllocationRecord> {
  const id = sv.allocationId('allocation_id', input.allocationId);
  const hold = validateHold(input.expiry);
  const expected = input.expectedVersion === undefined ? undefined : v.intInRange('expected_version', input.expectedVersion, 1, Number.MAX_SAFE_INTEGER);
  const key = sv.idempotencyKey(input.idempotencyKey);
  const request = { allocationId: id, hold: hold === 'none' ? null : 'at' in hold ? hold.at.toISOString() : { ttlMs: hold.ttlMs }, expected: expected ?? null };
  return uow.run(em, ctx, (tx) =>
    once(tx, key, 'ExtendAllocation', request, allocationCodec, async () => {
      const repo = tx.em.getRepository(Allocation);
      const allocation = await repo.lockWithLines(id);
      if (allocation === null) throw notFound('allocation', id);
      mustOwn(allocation, ctx, 'extend');
      if (!holds(allocation.status)) {
        throw new DomainError('FAILED_PRECONDITION', `allocation ${JSON.stringify(id)} is ${allocation.status} and holds nothing; its expire_time cannot change`, {
          allocation_id: id,
          status: allocation.status,
        });
      }
      if (expected !== undefined && allocation.version !== expected) {
        throw new DomainError('VERSION_CONFLICT', `allocation ${JSON.stringify(id)} is at version ${allocation.version}, not the expected ${expected}`, {
          field: 'expected_version',
          actual: allocation.version,
          expected,
        });
      }
      const expireTime = expireTimeOf(hold, tx.now);
      if ((expireTime?.getTime() ?? null) === (allocation.expireTime?.getTime() ?? null)) return allocation; // already so
      const version = allocation.version + 1;
      await repo.setExpireTime(id, expireTime, version, tx.now);
      tx.record(streamIds.allocation(id), version, { type: 'AllocationExtended', data: { allocationId: id, expireTime: expireTime?.toISOString() ?? null } });
      return { ...allocation, expireTime, version, updateTime: tx.now };
    }),
  );
}
