import { streamIds } from '../../events/types.js';
import { Allocation } from '../../persistence/entities/allocation.entity.js';
import { StockLevel } from '../../persistence/entities/stock-level.entity.js';
import type { AllocationRecord, NewAllocation } from '../../persistence/repositories/allocation.repository.js';
import type { LockedLevel } from '../../persistence/repositories/stock-level.repository.js';
import type { Tx, UnitOfWork } from '../../persistence/unit-of-work.js';
import { placeAllocation, type Candidate, type PlacedLine, type Placement } from '../allocation-strategy.js';
import { DomainError, notFoundField } from '../errors.js';
import { available, levelKey } from '../stock-level.js';
import { StockChanges } from '../stock-changes.js';
import type { AllocateCommand } from './allocate-command.js';
import { unsettled } from './holds.js';

export type Outcome =
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

/**
 * Serves a batch of AllocateStock calls in as few transactions as possible: normally one.
 * Ids found to exist already are taken out (their transaction is rolled back and re-run
 * without them); deadlocks and serialization failures, which the lock order should make
 * impossible, are retried.
 */
export async function allocateBatch(uow: UnitOfWork, commands: readonly AllocateCommand[]): Promise<Outcome[]> {
  const first = commands[0]!;
  const outcomes = new Map<string, Outcome>();
  let pending = [...commands];
  const existingIds = new Set<string>();
  for (let attempt = 0; pending.length > 0; attempt++) {
    try {
      const results = await uow.run(first.em, first.ctx, (tx) => allocateInTx(tx, pending));
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

async function allocateInTx(tx: Tx, commands: readonly AllocateCommand[]): Promise<Outcome[]> {
  const floatingSkus = new Set<string>();
  const keys = new Map<string, { sku: string; warehouseCode: string }>();
  for (const c of commands) {
    for (const l of c.lines) {
      if (l.warehouseCode === undefined) floatingSkus.add(l.sku);
      else keys.set(levelKey(l.sku, l.warehouseCode), { sku: l.sku, warehouseCode: l.warehouseCode });
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
        command.ctx,
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
      owner: r.command.ctx.actor,
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
  const ctxOf = new Map(commands.map((c) => [c.allocationId, c.ctx]));
  for (const a of created) {
    const by = ctxOf.get(a.allocationId);
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
      by,
    );
  }
  const errors = await explainFailures(tx, results.flatMap((r) => ('failed' in r ? [r] : [])), locked);
  return results.map((r): Outcome => {
    if ('failed' in r) return { kind: 'rejected', error: errors.get(r.command.allocationId)! };
    const a = byId.get(r.command.allocationId)!;
    return {
      kind: 'created',
      allocation: { ...a, lines: a.lines.map(unsettled), status: 'ALLOCATED', version: 1, updateTime: a.createTime },
    };
  });
}

/** Turns failed placements into errors: NOT_FOUND for unknown skus and warehouses, else FAILED_PRECONDITION. */
async function explainFailures(
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
    if (failed.warehouseCode !== undefined && !locked.has(levelKey(failed.sku, failed.warehouseCode))) unknownCodes.add(failed.warehouseCode);
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
