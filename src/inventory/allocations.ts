import type { EntityManager } from '@mikro-orm/postgresql';
import { Allocation } from '../persistence/entities/allocation.entity.js';
import type { AllocationRecord } from '../persistence/repositories/allocation.repository.js';
import type { CallContext, UnitOfWork } from '../persistence/unit-of-work.js';
import { allocateBatch, type Outcome } from './allocation/allocate-batch.js';
import { validateAllocate, type AllocateCommand, type AllocateInput } from './allocation/allocate-command.js';
import { closeAllocation, expireNext } from './allocation/life-cycle.js';
import { Batcher } from './batcher.js';
import { DomainError, notFound } from './errors.js';
import * as sv from './stock-validation.js';

export { MAX_LINES, type AllocateInput, type AllocateLineInput } from './allocation/allocate-command.js';

export interface AllocationOptions {
  /** Most AllocateStock calls served by one transaction; 1 turns batching off. */
  readonly batchMax: number;
  /** Most batch transactions in flight at once. */
  readonly batchConcurrency: number;
}

/** How an AllocateStock call ended, or an expiry: what operators count. */
export type AllocationOutcome = 'created' | 'replayed' | 'insufficient_stock' | 'idempotency_mismatch' | 'rejected' | 'expired';

/** Told about outcomes and batch sizes (the metrics layer listens; the service keeps no metric code). */
export interface AllocationObserver {
  outcome(outcome: AllocationOutcome): void;
  batch(size: number): void;
}

/**
 * AllocateStock, GetAllocation, ReleaseAllocation, FulfillAllocation and expiry.
 *
 * AllocateStock is all or nothing and never oversells: the levels it may take from are
 * locked (one statement, primary-key order) before anything is decided, and the CHECK
 * constraints refuse what slips through. Concurrent calls are grouped by a `Batcher` into
 * one transaction each (`allocation/allocate-batch.ts`); every call in a batch still gets
 * its own allocation, ledger rows, events and result, exactly as if it had run alone.
 * The life cycle after creation is in `allocation/life-cycle.ts`.
 */
export class AllocationService {
  private readonly batcher: Batcher<AllocateCommand, Outcome>;
  private readonly observers: AllocationObserver[] = [];

  constructor(
    private readonly uow: UnitOfWork,
    options: AllocationOptions,
  ) {
    this.batcher = new Batcher(
      (batch) => {
        for (const o of this.observers) o.batch(batch.length);
        return allocateBatch(this.uow, batch);
      },
      {
        maxBatch: options.batchMax,
        concurrency: options.batchConcurrency,
        keyOf: (c) => c.allocationId,
      },
    );
  }

  observe(observer: AllocationObserver): void {
    this.observers.push(observer);
  }

  private tell(outcome: AllocationOutcome): void {
    for (const o of this.observers) o.outcome(outcome);
  }

  async allocate(em: EntityManager, ctx: CallContext, input: AllocateInput): Promise<AllocationRecord> {
    const command = validateAllocate(em, ctx, input);
    const outcome = await this.batcher.submit(command);
    switch (outcome.kind) {
      case 'created':
        this.tell('created');
        return outcome.allocation;
      case 'existing':
        // Another caller's id: say only that it is taken, nothing of its allocation.
        if (outcome.allocation.owner !== ctx.actor && !ctx.actsForOthers) {
          throw new DomainError('ALREADY_EXISTS', `allocation_id ${JSON.stringify(command.allocationId)} is taken by another caller; use a new allocation_id`, {
            field: 'allocation_id',
            allocation_id: command.allocationId,
          });
        }
        if (outcome.allocation.requestHash !== command.requestHash) {
          this.tell('idempotency_mismatch');
          throw new DomainError(
            'IDEMPOTENCY_MISMATCH',
            `allocation ${JSON.stringify(command.allocationId)} exists already with different lines or ttl; use a new allocation_id`,
            { field: 'allocation_id', allocation_id: command.allocationId },
          );
        }
        this.tell('replayed');
        return outcome.allocation;
      case 'rejected':
        this.tell(outcome.error.code === 'FAILED_PRECONDITION' && 'available' in outcome.error.details ? 'insufficient_stock' : 'rejected');
        throw outcome.error;
      default: {
        const never: never = outcome;
        throw new Error(`unexpected outcome ${JSON.stringify(never)}`);
      }
    }
  }

  async get(em: EntityManager, idIn: string): Promise<AllocationRecord> {
    const id = sv.allocationId('allocation_id', idIn);
    const found = (await em.getRepository(Allocation).findWithLines([id])).get(id);
    if (found === undefined) throw notFound('allocation', id);
    return found;
  }

  release(em: EntityManager, ctx: CallContext, id: string): Promise<AllocationRecord> {
    return closeAllocation(this.uow, em, ctx, id, 'RELEASED');
  }

  fulfill(em: EntityManager, ctx: CallContext, id: string): Promise<AllocationRecord> {
    return closeAllocation(this.uow, em, ctx, id, 'FULFILLED');
  }

  /** Expires the allocation due longest ago (see `expireNext`); its id, or undefined when none is due. */
  async expireNext(em: EntityManager, ctx: CallContext): Promise<string | undefined> {
    const id = await expireNext(this.uow, em, ctx);
    if (id !== undefined) this.tell('expired');
    return id;
  }
}
