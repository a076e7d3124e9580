import type { EntityManager } from '@mikro-orm/postgresql';
import { streamIds } from '../../events/types.js';
import { Allocation } from '../../persistence/entities/allocation.entity.js';
import { StockLevel } from '../../persistence/entities/stock-level.entity.js';
import type { AllocationRecord } from '../../persistence/repositories/allocation.repository.js';
import type { CallContext, Tx, UnitOfWork } from '../../persistence/unit-of-work.js';
import { DomainError, notFound } from '../errors.js';
import { StockChanges } from '../stock-changes.js';
import * as sv from '../stock-validation.js';

type Closing = 'RELEASED' | 'FULFILLED' | 'EXPIRED';

/** ReleaseAllocation and FulfillAllocation: the whole allocation, by its owner (or an admin). */
export function closeAllocation(uow: UnitOfWork, em: EntityManager, ctx: CallContext, idIn: string, target: 'RELEASED' | 'FULFILLED'): Promise<AllocationRecord> {
  const id = sv.allocationId('allocation_id', idIn);
  return uow.run(em, ctx, async (tx) => {
    const allocation = await tx.em.getRepository(Allocation).lockWithLines(id);
    if (allocation === null) throw notFound('allocation', id);
    if (allocation.owner !== ctx.actor && !ctx.actsForOthers) {
      throw new DomainError('NOT_OWNER', `allocation ${JSON.stringify(id)} belongs to another caller; only it or an admin may ${target === 'RELEASED' ? 'release' : 'fulfil'} it`, {
        allocation_id: id,
      });
    }
    if (allocation.status === target) return allocation; // a repeat: nothing more to do
    if (allocation.status !== 'ALLOCATED') {
      const verb = target === 'RELEASED' ? 'released' : 'fulfilled';
      throw new DomainError('FAILED_PRECONDITION', `allocation ${JSON.stringify(id)} is ${allocation.status} and cannot be ${verb}`, {
        allocation_id: id,
        status: allocation.status,
      });
    }
    return finish(tx, allocation, target);
  });
}

/**
 * Expires the ALLOCATED allocation whose expire_time passed longest ago, in its own
 * transaction; returns its id, or undefined when none is due. Safe with many sweepers:
 * the row is taken with SKIP LOCKED and its status re-checked under the lock.
 */
export function expireNext(uow: UnitOfWork, em: EntityManager, ctx: CallContext): Promise<string | undefined> {
  return uow.run(em, ctx, async (tx) => {
    const due = await tx.em.getRepository(Allocation).lockNextDue(tx.now);
    if (due === null) return undefined;
    await finish(tx, due, 'EXPIRED');
    return due.allocationId;
  });
}

/** Gives back (or ships) the units of an ALLOCATED allocation the caller has locked. */
async function finish(tx: Tx, allocation: AllocationRecord, to: Closing): Promise<AllocationRecord> {
  const allocationId = allocation.allocationId;
  const locked = await tx.em.getRepository(StockLevel).lock(allocation.lines);
  const changes = new StockChanges(locked.values());
  for (const line of allocation.lines) {
    const q = line.quantity;
    switch (to) {
      case 'RELEASED':
      case 'EXPIRED': {
        const cause = to === 'RELEASED' ? 'RELEASED' : 'EXPIRED';
        changes.apply(line.sku, line.warehouseCode, { type: to === 'RELEASED' ? 'RELEASE' : 'EXPIRY', onHandDelta: 0, allocatedDelta: -q, allocationId }, tx.now, (c) => ({
          type: 'StockReleased',
          data: { ...c, allocationId, cause },
        }));
        break;
      }
      case 'FULFILLED':
        changes.apply(line.sku, line.warehouseCode, { type: 'FULFILMENT', onHandDelta: -q, allocatedDelta: -q, allocationId }, tx.now, (c) => ({
          type: 'StockFulfilled',
          data: { ...c, allocationId },
        }));
        break;
      default: {
        const never: never = to;
        throw new Error(`unexpected target ${String(never)}`);
      }
    }
  }
  await changes.commit(tx);
  const version = allocation.version + 1;
  await tx.em.getRepository(Allocation).setStatus(allocationId, to, version, tx.now);
  const type = to === 'RELEASED' ? 'AllocationReleased' : to === 'FULFILLED' ? 'AllocationFulfilled' : 'AllocationExpired';
  tx.record(streamIds.allocation(allocationId), version, { type, data: { allocationId } });
  return { ...allocation, status: to, version, updateTime: tx.now };
}
