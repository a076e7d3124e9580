import type { EntityManager } from '@mikro-orm/postgresql';
import { streamIds } from '../events/types.js';
import { Allocation } from '../persistence/entities/allocation.entity.js';
import { StockLevel } from '../persistence/entities/stock-level.entity.js';
import type { AllocationRecord, NewAllocation } from '../persistence/repositories/allocation.repository.js';
import type { LockedLevel } from '../persistence/repositories/stock-level.repository.js';
import type { CallContext, Tx, UnitOfWork } from '../persistence/unit-of-work.js';
import { placeAllocation, type Candidate, type PlacedLine, type Placement, type RequestedLine } from './allocation-strategy.js';
import { Batcher } from './batcher.js';
import { DomainError, invalid, notFound, notFoundField } from './errors.js';
import { fingerprint } from './idempotency.js';
import { available } from './stock-level.js';
import { StockChanges } from './stock-changes.js';
import * as sv from './stock-validation.js';
import * as v from './validation.js';

export interface AllocateLineInput {
  sku: string;
  quantity: number | bigint;
  /** Empty: the allocation strategy chooses. */
  warehouseCode: string;
}

export interface AllocateInput {
  allocationId: string;
  lines: AllocateLineInput[];
  ttl: { seconds: bigint | number; nanos: number } | undefined;
}

export const MAX_LINES = 100;

/** A validated AllocateStock call on its way through the batcher. */
interface AllocateCommand {
  readonly em: EntityManager;
  readonly ctx: CallContext;
  readonly allocationId: string;
  readonly lines: readonly RequestedLine[];
  readonly ttlMs: number | undefined;
  readonly requestHash: string;
}

type Outcome =
  | { readonly kind: 'created'; readonly allocation: AllocationRecord }
  /** The id existed already: a retry (same request) or a clash (another request). */
  | { readonly kind: 'existing'; readonly allocation: AllocationRecord }
  | { readonly kind: 'rejected'; readonly error: DomainError };

/** Raised inside a batch transaction when some ids turned out to exist: roll back, retry without them. */
class ExistingIds extends Error {
  constructor(readonly ids: ReadonlySet<string>) {
    super(`allocation ids exist already: ${[...ids].join(', ')}`);
  }
}

/** PostgreSQL deadlock and serialization failures: the transaction may simply be retried. */
const retryable = (err: unknown): boolean => ['40P01', '40001'].includes(String((err as { code?: unknown }).code ?? ''));

export interface AllocationOptions {
  /** Most AllocateStock calls served by one transaction; 1 turns batching off. */
  readonly batchMax: number;
  /** Most batch transactions in flight at once. */
  readonly batchConcurrency: number;
}

type Closing = 'RELEASED' | 'FULFILLED' | 'EXPIRED';

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
 * one transaction each; every call in a batch still gets its own allocation, ledger rows,
 * events and result, exactly as if it had run alone.
 */
export class AllocationService {
  private readonly batcher: Batcher<AllocateCommand, Outcome>;
  private readonly observers: AllocationObserver[] = [];

  constructor(
    private readonly uow: UnitOfWork,
    options: AllocationOptions,
  ) {
    this.batcher = new Batcher((batch) => this.allocateBatch(batch), {
      maxBatch: options.batchMax,
      concurrency: options.batchConcurrency,
      keyOf: (c) => c.allocationId,
    });
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
    return this.close(em, ctx, id, 'RELEASED');
  }

  fulfill(em: EntityManager, ctx: CallContext, id: string): Promise<AllocationRecord> {
    return this.close(em, ctx, id, 'FULFILLED');
  }

  /**
   * Expires the ALLOCATED allocation whose expire_time passed longest ago, in its own
   * transaction; returns its id, or undefined when none is due. Safe with many sweepers:
   * the row is taken with SKIP LOCKED and its status re-checked under the lock.
   */
  async expireNext(em: EntityManager, ctx: CallContext): Promise<string | undefined> {
    return this.uow.run(em, ctx, async (tx) => {
      const due = await tx.em.getRepository(Allocation).lockNextDue(tx.now);
      if (due === null) return undefined;
      await this.finish(tx, due, 'EXPIRED');
      return due.allocationId;
    }).then((id) => {
      if (id !== undefined) this.tell('expired');
      return id;
    });
  }

  private close(em: EntityManager, ctx: CallContext, idIn: string, target: 'RELEASED' | 'FULFILLED'): Promise<AllocationRecord> {
    const id = sv.allocationId('allocation_id', idIn);
    return this.uow.run(em, ctx, async (tx) => {
      const allocation = await tx.em.getRepository(Allocation).lockWithLines(id);
      if (allocation === null) throw notFound('allocation', id);
      if (allocation.status === target) return allocation; // a repeat: nothing more to do
      if (allocation.status !== 'ALLOCATED') {
        const verb = target === 'RELEASED' ? 'released' : 'fulfilled';
        throw new DomainError('FAILED_PRECONDITION', `allocation ${JSON.stringify(id)} is ${allocation.status} and cannot be ${verb}`, {
          allocation_id: id,
          status: allocation.status,
        });
      }
      return this.finish(tx, allocation, target);
    });
  }

  /** Gives back (or ships) the units of an ALLOCATED allocation the caller has locked. */
  private async finish(tx: Tx, allocation: AllocationRecord, to: Closing): Promise<AllocationRecord> {
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

  /**
   * Serves a batch of AllocateStock calls in as few transactions as possible: normally one.
   * Ids found to exist already are taken out (their transaction is rolled back and re-run
   * without them); deadlocks and serialization failures, which the lock order should make
   * impossible, are retried.
   */
  private async allocateBatch(commands: readonly AllocateCommand[]): Promise<Outcome[]> {
    for (const o of this.observers) o.batch(commands.length);
    const first = commands[0]!;
    const outcomes = new Map<string, Outcome>();
    let pending = [...commands];
    const existingIds = new Set<string>();
    for (let attempt = 0; pending.length > 0; attempt++) {
      try {
        const results = await this.uow.run(first.em, first.ctx, (tx) => this.allocateInTx(tx, pending));
        pending.forEach((c, i) => outcomes.set(c.allocationId, results[i]!));
        pending = [];
      } catch (err) {
        if (err instanceof ExistingIds) {
          for (const id of err.ids) existingIds.add(id);
          pending = pending.filter((c) => !err.ids.has(c.allocationId));
        } else if (!(retryable(err) && attempt < 3)) {
          throw err;
        }
      }
    }
    // A rejected call whose id exists already is a retry of an earlier success (or a clash).
    const rejected = commands.filter((c) => outcomes.get(c.allocationId)?.kind === 'rejected').map((c) => c.allocationId);
    const lookup = [...existingIds, ...rejected];
    const found = lookup.length === 0 ? new Map<string, AllocationRecord>() : await first.em.fork().getRepository(Allocation).findWithLines(lookup);
    return commands.map((c) => {
      const existing = found.get(c.allocationId);
      if (existing !== undefined) return { kind: 'existing', allocation: existing };
      const outcome = outcomes.get(c.allocationId);
      if (outcome === undefined) throw new Error(`allocation ${c.allocationId} vanished after a conflict`);
      return outcome;
    });
  }

  private async allocateInTx(tx: Tx, commands: readonly AllocateCommand[]): Promise<Outcome[]> {
    const floatingSkus = new Set<string>();
    const keys = new Map<string, { sku: string; warehouseCode: string }>();
    for (const c of commands) {
      for (const l of c.lines) {
        if (l.warehouseCode === undefined) floatingSkus.add(l.sku);
        else keys.set(`${l.sku}#${l.warehouseCode}`, { sku: l.sku, warehouseCode: l.warehouseCode });
      }
    }
    const levels = tx.em.getRepository(StockLevel);
    const locked = await levels.lockForAllocation([...floatingSkus], [...keys.values()]);
    const warehousesOf = new Map<string, LockedLevel[]>();
    for (const l of locked.values()) warehousesOf.set(l.sku, [...(warehousesOf.get(l.sku) ?? []), l]);

    const changes = new StockChanges(locked.values());
    const candidatesOf = (sku: string): Candidate[] =>
      (warehousesOf.get(sku) ?? []).map((w) => ({
        warehouseCode: w.warehouseCode,
        priority: w.priority,
        active: w.active,
        available: available(changes.level(sku, w.warehouseCode)),
      }));

    const results: Array<{ command: AllocateCommand; placed: readonly PlacedLine[] } | { command: AllocateCommand; failed: Exclude<Placement, { ok: true }> }> = [];
    for (const command of commands) {
      const placement = placeAllocation(command.lines, candidatesOf);
      if (!placement.ok) {
        results.push({ command, failed: placement });
        continue;
      }
      for (const line of placement.lines) {
        const allocationId = command.allocationId;
        changes.apply(
          line.sku,
          line.warehouseCode,
          { type: 'ALLOCATION', onHandDelta: 0, allocatedDelta: line.quantity, allocationId },
          tx.now,
          (c) => ({ type: 'StockAllocated', data: { ...c, allocationId } }),
          command.ctx.correlationId,
        );
      }
      results.push({ command, placed: placement.lines });
    }

    const created: NewAllocation[] = [];
    for (const r of results) {
      if (!('placed' in r)) continue;
      created.push({
        allocationId: r.command.allocationId,
        requestHash: r.command.requestHash,
        lines: r.placed,
        expireTime: r.command.ttlMs === undefined ? null : new Date(tx.now.getTime() + r.command.ttlMs),
        createTime: tx.now,
      });
    }
    const inserted = await tx.em.getRepository(Allocation).insertNew(created);
    if (inserted.size < created.length) {
      throw new ExistingIds(new Set(created.filter((a) => !inserted.has(a.allocationId)).map((a) => a.allocationId)));
    }
    await changes.commit(tx);
    const byId = new Map(created.map((a) => [a.allocationId, a]));
    const correlationOf = new Map(commands.map((c) => [c.allocationId, c.ctx.correlationId]));
    for (const a of created) {
      const correlationId = correlationOf.get(a.allocationId);
      tx.record(
        streamIds.allocation(a.allocationId),
        1,
        {
          type: 'AllocationCreated',
          data: {
            allocationId: a.allocationId,
            lines: a.lines.map((l) => ({ ...l })),
            expireTime: a.expireTime?.toISOString() ?? null,
            requestHash: a.requestHash,
          },
        },
        correlationId,
      );
    }
    const errors = await this.explainFailures(tx, results.flatMap((r) => ('failed' in r ? [r] : [])), locked);
    return results.map((r): Outcome => {
      if ('failed' in r) return { kind: 'rejected', error: errors.get(r.command.allocationId)! };
      const a = byId.get(r.command.allocationId)!;
      return {
        kind: 'created',
        allocation: { ...a, status: 'ALLOCATED', version: 1, updateTime: a.createTime },
      };
    });
  }

  /** Turns failed placements into errors: NOT_FOUND for unknown skus and warehouses, else FAILED_PRECONDITION. */
  private async explainFailures(
    tx: Tx,
    failures: ReadonlyArray<{ command: AllocateCommand; failed: Exclude<Placement, { ok: true }> }>,
    locked: ReadonlyMap<string, LockedLevel>,
  ): Promise<Map<string, DomainError>> {
    const errors = new Map<string, DomainError>();
    if (failures.length === 0) return errors;
    // A level that was never created may mean an unknown sku or warehouse.
    const unknownSkus = new Set<string>();
    const unknownCodes = new Set<string>();
    for (const { failed } of failures) {
      if (failed.reason !== 'SHORT' || failed.available > 0) continue;
      unknownSkus.add(failed.sku);
      if (failed.warehouseCode !== undefined && !locked.has(`${failed.sku}#${failed.warehouseCode}`)) unknownCodes.add(failed.warehouseCode);
    }
    const found =
      unknownSkus.size === 0 ? { skus: new Set<string>(), codes: new Set<string>() } : await tx.em.getRepository(StockLevel).existing([...unknownSkus], [...unknownCodes]);
    for (const { command, failed } of failures) {
      const field = `lines[${failed.lineIndex}]`;
      let error: DomainError;
      if (failed.reason === 'INACTIVE') {
        error = new DomainError('FAILED_PRECONDITION', `${field}: warehouse ${JSON.stringify(failed.warehouseCode)} is not active and cannot be allocated from`, {
          sku: failed.sku,
          warehouse_code: failed.warehouseCode,
        });
      } else if (unknownSkus.has(failed.sku) && !found.skus.has(failed.sku)) {
        error = notFoundField(`${field}.sku`, 'item', failed.sku);
      } else if (failed.warehouseCode !== undefined && unknownCodes.has(failed.warehouseCode) && !found.codes.has(failed.warehouseCode)) {
        error = notFoundField(`${field}.warehouse_code`, 'warehouse', failed.warehouseCode);
      } else {
        const where = failed.warehouseCode === undefined ? '' : ` in warehouse ${JSON.stringify(failed.warehouseCode)}`;
        error = new DomainError(
          'FAILED_PRECONDITION',
          `not enough stock of sku ${JSON.stringify(failed.sku)}${where}: requested ${failed.requested}, available ${failed.available}`,
          {
            sku: failed.sku,
            ...(failed.warehouseCode === undefined ? {} : { warehouse_code: failed.warehouseCode }),
            requested: failed.requested,
            available: failed.available,
            line: failed.lineIndex,
          },
        );
      }
      errors.set(command.allocationId, error);
    }
    return errors;
  }
}

/** Checks an AllocateStock request; everything is rejected before any transaction starts. */
function validateAllocate(em: EntityManager, ctx: CallContext, input: AllocateInput): AllocateCommand {
  const allocationId = sv.allocationId('allocation_id', input.allocationId);
  if (input.lines.length === 0) throw invalid('lines', 'at least one line is required');
  if (input.lines.length > MAX_LINES) throw invalid('lines', `at most ${MAX_LINES} lines; got ${input.lines.length}`);
  const seen = new Map<string, number>();
  const lines = input.lines.map((l, i): RequestedLine => {
    const sku = v.sku(`lines[${i}].sku`, l.sku);
    const quantity = sv.quantity(`lines[${i}].quantity`, l.quantity);
    const warehouseCode = l.warehouseCode === '' ? undefined : v.warehouseCode(`lines[${i}].warehouse_code`, l.warehouseCode);
    const key = `${sku}#${warehouseCode ?? ''}`;
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      throw invalid(`lines[${i}]`, `repeats the sku${warehouseCode === undefined ? '' : ' and warehouse'} of lines[${earlier}]; merge them into one line`);
    }
    seen.set(key, i);
    return { sku, quantity, warehouseCode };
  });
  const ttlMs = sv.ttlMs(input.ttl);
  const canonical = [...lines]
    .map((l) => [l.sku, l.warehouseCode ?? '', l.quantity] as const)
    .sort((a, b) => (a[0] + '#' + a[1] < b[0] + '#' + b[1] ? -1 : 1));
  return { em, ctx, allocationId, lines, ttlMs, requestHash: fingerprint({ lines: canonical, ttlMs: ttlMs ?? null }) };
}
