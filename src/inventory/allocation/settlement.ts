import type { EntityManager } from '@mikro-orm/postgresql';
import { streamIds, type DomainEvent } from '../../events/types.js';
import { Allocation } from '../../persistence/entities/allocation.entity.js';
import { StockLevel } from '../../persistence/entities/stock-level.entity.js';
import type { AllocationRecord } from '../../persistence/repositories/allocation.repository.js';
import type { CallContext, Tx, UnitOfWork } from '../../persistence/unit-of-work.js';
import { DomainError, notFound } from '../errors.js';
import { once } from '../idempotency.js';
import { StockChanges } from '../stock-changes.js';
import { allHeld, holds, settle, type LineUnits, type Settlement } from './holds.js';
import { mustOwn } from './ownership.js';
import { allocationCodec } from './record-codec.js';
import { resolveLines, validateSettle, type SettleInput } from './settle-command.js';

const VERB = { FULFIL: 'fulfil', RELEASE: 'release' } as const;
const PAST = { FULFIL: 'fulfilled', RELEASE: 'released' } as const;
const OPERATION = { FULFIL: 'FulfillAllocation', RELEASE: 'ReleaseAllocation' } as const;

/**
 * FulfillAllocation and ReleaseAllocation, by the allocation's owner (or an admin). Without
 * lines: every unit still held, and a repeat on an allocation that holds nothing any more
 * returns it unchanged if some of its units were settled this way (a RELEASED allocation
 * released again), as before partial fulfilment. With lines: those units only, once per
 * idempotency key of the caller.
 */
export function settleAllocation(uow: UnitOfWork, em: EntityManager, ctx: CallContext, how: 'FULFIL' | 'RELEASE', input: SettleInput): Promise<AllocationRecord> {
  const command = validateSettle(input, VERB[how]);
  const request = { allocationId: command.allocationId, lines: command.lines.map((l) => [l.sku, l.warehouseCode ?? '', l.quantity]) };
  return uow.run(em, ctx, (tx) =>
    once(tx, command.key, OPERATION[how], request, allocationCodec, async () => {
      const id = command.allocationId;
      const allocation = await tx.em.getRepository(Allocation).lockWithLines(id);
      if (allocation === null) throw notFound('allocation', id);
      mustOwn(allocation, ctx, VERB[how]);
      const whole = command.lines.length === 0;
      if (!holds(allocation.status)) {
        const settledThisWay = allocation.lines.some((l) => (how === 'FULFIL' ? l.fulfilled : l.released) > 0);
        if (whole && settledThisWay) return allocation; // a repeat: nothing more to do
        throw new DomainError(
          'FAILED_PRECONDITION',
          whole
            ? `allocation ${JSON.stringify(id)} is ${allocation.status} and cannot be ${PAST[how]}`
            : `allocation ${JSON.stringify(id)} is ${allocation.status} and holds nothing to ${VERB[how]}`,
          { allocation_id: id, status: allocation.status },
        );
      }
      const units = whole ? allHeld(allocation.lines) : resolveLines(allocation, command, VERB[how]);
      return applySettlement(tx, allocation, how, units, whole, command.key);
    }),
  );
}

/**
 * Expires the allocation still holding units whose expire_time passed longest ago, in its
 * own transaction: only what it still holds goes back. Returns its id, or undefined when
 * none is due. Safe with many sweepers: the row is taken with SKIP LOCKED and the
 * condition re-checked under the lock.
 */
export function expireNext(uow: UnitOfWork, em: EntityManager, ctx: CallContext): Promise<string | undefined> {
  return uow.run(em, ctx, async (tx) => {
    const due = await tx.em.getRepository(Allocation).lockNextDue(tx.now);
    if (due === null) return undefined;
    await applySettlement(tx, due, 'EXPIRE', allHeld(due.lines), true, undefined);
    return due.allocationId;
  });
}

/** Ships or gives back `units` of an allocation the caller has locked: stock, ledger, allocation and events. */
async function applySettlement(tx: Tx, allocation: AllocationRecord, how: Settlement, units: readonly LineUnits[], whole: boolean, key: string | undefined): Promise<AllocationRecord> {
  const allocationId = allocation.allocationId;
  const result = settle(allocation.lines, how, units);
  if (!result.ok) throw new Error(`allocation ${allocationId}: units of ${JSON.stringify(units[result.index])} are not held`);
  const locked = await tx.em.getRepository(StockLevel).lock(units);
  const changes = new StockChanges(locked.values());
  const idempotencyKey = key === undefined ? {} : { idempotencyKey: key };
  for (const u of units) {
    const q = u.quantity;
    switch (how) {
      case 'RELEASE':
      case 'EXPIRE': {
        const cause = how === 'RELEASE' ? 'RELEASED' : 'EXPIRED';
        changes.apply(u.sku, u.warehouseCode, { type: how === 'RELEASE' ? 'RELEASE' : 'EXPIRY', onHandDelta: 0, allocatedDelta: -q, allocationId, ...idempotencyKey }, tx.now, (c) => ({
          type: 'StockReleased',
          data: { ...c, allocationId, cause },
        }));
        break;
      }
      case 'FULFIL':
        changes.apply(u.sku, u.warehouseCode, { type: 'FULFILMENT', onHandDelta: -q, allocatedDelta: -q, allocationId, ...idempotencyKey }, tx.now, (c) => ({
          type: 'StockFulfilled',
          data: { ...c, allocationId },
        }));
        break;
      default: {
        const never: never = how;
        throw new Error(`unexpected settlement ${String(never)}`);
      }
    }
  }
  await changes.commit(tx);
  const version = allocation.version + 1;
  await tx.em.getRepository(Allocation).saveSettlement(allocationId, result.status, version, tx.now, result.lines);
  tx.record(streamIds.allocation(allocationId), version, allocationEvent(how, whole, { allocationId, lines: units.map((u) => ({ ...u })), status: result.status }));
  return { ...allocation, status: result.status, lines: result.lines, version, updateTime: tx.now };
}

function allocationEvent(how: Settlement, whole: boolean, data: Extract<DomainEvent, { type: 'AllocationLinesFulfilled' }>['data']): DomainEvent {
  switch (how) {
    case 'FULFIL':
      return whole ? { type: 'AllocationFulfilled', data } : { type: 'AllocationLinesFulfilled', data };
    case 'RELEASE':
      return whole ? { type: 'AllocationReleased', data } : { type: 'AllocationLinesReleased', data };
    case 'EXPIRE':
      return { type: 'AllocationExpired', data };
    default: {
      const never: never = how;
      throw new Error(`unexpected settlement ${String(never)}`);
    }
  }
}
