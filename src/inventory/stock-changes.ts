import type { DomainEvent, StockChange } from '../events/types.js';
import { streamIds } from '../events/types.js';
import type { MovementType } from '../persistence/entities/stock-movement.entity.js';
import { writeLevelsAndMovements, type NewMovement } from '../persistence/repositories/stock-movement.repository.js';
import type { CallContext, Tx } from '../persistence/unit-of-work.js';
import { applyChange, levelKey, type StateDeltas, type StockLevelState } from './stock-level.js';

export interface MovementInput {
  readonly type: MovementType;
  readonly onHandDelta: number;
  readonly allocatedDelta: number;
  /** Changes of the unavailable states (MoveStock); none by default. */
  readonly stateDeltas?: StateDeltas;
  readonly reason?: string;
  readonly reference?: string;
  readonly allocationId?: string;
  readonly idempotencyKey?: string;
}

interface Entry {
  readonly movement: NewMovement;
  readonly level: StockLevelState;
  readonly event: (change: StockChange) => DomainEvent;
  readonly by: CallContext | undefined;
}

/**
 * The stock changes of one transaction, accumulated in memory over levels the caller has
 * locked, then written in one round trip by `commit`: every change becomes a new level
 * version, one ledger row and one event on the level's stream. Several changes of one
 * level (a batch of allocations) get consecutive versions.
 */
export class StockChanges {
  private readonly current = new Map<string, StockLevelState>();
  private readonly initialVersion = new Map<string, number>();
  private readonly entries: Entry[] = [];

  constructor(levels: Iterable<StockLevelState>) {
    for (const l of levels) {
      const key = levelKey(l.sku, l.warehouseCode);
      this.current.set(key, l);
      this.initialVersion.set(key, l.version);
    }
  }

  /** The level as changed so far; throws if the caller did not lock (load) it. */
  level(sku: string, warehouseCode: string): StockLevelState {
    const level = this.current.get(levelKey(sku, warehouseCode));
    if (level === undefined) throw new Error(`stock level ${levelKey(sku, warehouseCode)} was not locked`);
    return level;
  }

  /** Applies one change (or throws a DomainError and changes nothing). */
  apply(
    sku: string,
    warehouseCode: string,
    input: MovementInput,
    now: Date,
    event: (change: StockChange) => DomainEvent,
    by?: CallContext,
  ): StockLevelState {
    const next = applyChange(this.level(sku, warehouseCode), input.onHandDelta, input.allocatedDelta, now, input.stateDeltas);
    this.current.set(levelKey(sku, warehouseCode), next);
    this.entries.push({
      level: next,
      event,
      by,
      movement: {
        sku,
        warehouseCode,
        type: input.type,
        onHandDelta: input.onHandDelta,
        allocatedDelta: input.allocatedDelta,
        damagedDelta: input.stateDeltas?.damaged ?? 0,
        qualityControlDelta: input.stateDeltas?.qualityControl ?? 0,
        safetyStockDelta: input.stateDeltas?.safetyStock ?? 0,
        reason: input.reason ?? '',
        reference: input.reference ?? '',
        allocationId: input.allocationId ?? null,
        idempotencyKey: input.idempotencyKey ?? null,
        stockVersion: next.version,
      },
    });
    return next;
  }

  /** Writes the changed levels and the ledger, then records one event per change. */
  async commit(tx: Tx): Promise<void> {
    if (this.entries.length === 0) return;
    const changed = [...this.current.entries()]
      .filter(([key, l]) => l.version !== this.initialVersion.get(key))
      .map(([key, l]) => ({ ...l, previousVersion: this.initialVersion.get(key)! }));
    const ids = await writeLevelsAndMovements(
      tx.em,
      changed,
      this.entries.map((e) => e.movement),
      tx.now,
    );
    this.entries.forEach((e, i) => {
      const m = e.movement;
      tx.record(
        streamIds.stock(m.sku, m.warehouseCode),
        e.level.version,
        e.event({
          sku: m.sku,
          warehouseCode: m.warehouseCode,
          onHandDelta: m.onHandDelta,
          allocatedDelta: m.allocatedDelta,
          onHand: e.level.onHand,
          allocated: e.level.allocated,
          damaged: e.level.damaged,
          qualityControl: e.level.qualityControl,
          safetyStock: e.level.safetyStock,
          movementId: ids[i]!,
        }),
        e.by,
      );
    });
  }
}
