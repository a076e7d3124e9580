import { eventOfKind } from '../streams.js';
import { streamIds, type EventEnvelope, type StockChange } from '../types.js';
import { ReplayError, reviveObject, stamp, type Projection, type Versioned } from './projection.js';

/**
 * The stock level of one sku in one warehouse, as its `stock#<sku>#<warehouse>` stream
 * tells it. A level has no "created" event: its first event (version 1) starts it at zero.
 */
export interface StockReplay extends Versioned {
  sku: string;
  warehouseCode: string;
  onHand: number;
  allocated: number;
  /** The ledger row (stock_movement.id) of the newest event. */
  lastMovementId: number;
}

function change(state: StockReplay | undefined, e: EventEnvelope, d: StockChange): StockReplay {
  const before = state ?? { onHand: 0, allocated: 0 };
  const onHand = before.onHand + d.onHandDelta;
  const allocated = before.allocated + d.allocatedDelta;
  if (onHand !== d.onHand || allocated !== d.allocated) {
    throw new ReplayError(
      e.streamId,
      `version ${e.version} (${e.type}) says on_hand=${d.onHand}, allocated=${d.allocated}, but its deltas give on_hand=${onHand}, allocated=${allocated}`,
    );
  }
  if (onHand < 0 || allocated < 0 || allocated > onHand) {
    throw new ReplayError(e.streamId, `version ${e.version} (${e.type}) leaves on_hand=${onHand}, allocated=${allocated}`);
  }
  return { sku: d.sku, warehouseCode: d.warehouseCode, onHand, allocated, lastMovementId: d.movementId, ...stamp(state, e) };
}

export const stockProjection: Projection<StockReplay> = {
  kind: 'stock',
  apply(state, e) {
    const ev = eventOfKind(e, 'stock');
    if (ev === undefined) throw new ReplayError(e.streamId, `${e.type} does not belong to a stock stream`);
    switch (ev.type) {
      case 'StockReceived':
      case 'StockAdjusted':
      case 'StockTransferredOut':
      case 'StockTransferredIn':
      case 'StockAllocated':
      case 'StockReleased':
      case 'StockFulfilled':
        return change(state, e, ev.data);
      default: {
        const never: never = ev;
        throw new ReplayError(e.streamId, `unknown event ${JSON.stringify(never)}`);
      }
    }
  },
  streamIdOf: (s) => streamIds.stock(s.sku, s.warehouseCode),
  revive: (json, streamId) =>
    reviveObject<StockReplay>(json, streamId, ['sku', 'warehouseCode', 'onHand', 'allocated', 'lastMovementId']),
};
