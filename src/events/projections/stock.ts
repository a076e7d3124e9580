import { eventOfKind } from '../streams.js';
import { streamIds, type EventEnvelope, type StateMove, type StockChange, type StockStateName } from '../types.js';
import { ReplayError, reviveObject, stamp, type Projection, type Versioned } from './projection.js';

type UnavailableName = Exclude<StockStateName, 'available'>;
const UNAVAILABLE: readonly UnavailableName[] = ['damaged', 'qualityControl', 'safetyStock'];

/**
 * The stock level of one sku in one warehouse, as its `stock#<sku>#<warehouse>` stream
 * tells it. A level has no "created" event: its first event (version 1) starts it at zero.
 */
export interface StockReplay extends Versioned {
  sku: string;
  warehouseCode: string;
  onHand: number;
  allocated: number;
  damaged: number;
  qualityControl: number;
  safetyStock: number;
  /** The ledger row (stock_movement.id) of the newest event. */
  lastMovementId: number;
}

type States = Record<UnavailableName, number>;

/** The unavailable states after a move (`move`), or unchanged by any other event. */
function statesAfter(before: States, move: StateMove | undefined): States {
  const next: States = { damaged: before.damaged, qualityControl: before.qualityControl, safetyStock: before.safetyStock };
  if (move === undefined) return next;
  if (move.fromState !== 'available') next[move.fromState] -= move.quantity;
  if (move.toState !== 'available') next[move.toState] += move.quantity;
  return next;
}

function change(state: StockReplay | undefined, e: EventEnvelope, d: StockChange, move?: StateMove): StockReplay {
  const before = state ?? { onHand: 0, allocated: 0, damaged: 0, qualityControl: 0, safetyStock: 0 };
  const onHand = before.onHand + d.onHandDelta;
  const allocated = before.allocated + d.allocatedDelta;
  const states = statesAfter(before, move);
  if (onHand !== d.onHand || allocated !== d.allocated) {
    throw new ReplayError(
      e.streamId,
      `version ${e.version} (${e.type}) says on_hand=${d.onHand}, allocated=${d.allocated}, but its deltas give on_hand=${onHand}, allocated=${allocated}`,
    );
  }
  // Events from before the states carry none (they were all 0); newer ones state them.
  for (const s of UNAVAILABLE) {
    const stated = d[s];
    if (stated !== undefined && stated !== states[s]) {
      throw new ReplayError(e.streamId, `version ${e.version} (${e.type}) says ${s}=${stated}, but the stream gives ${states[s]}`);
    }
  }
  const held = allocated + states.damaged + states.qualityControl + states.safetyStock;
  if (onHand < 0 || allocated < 0 || UNAVAILABLE.some((s) => states[s] < 0) || held > onHand) {
    throw new ReplayError(
      e.streamId,
      `version ${e.version} (${e.type}) leaves on_hand=${onHand}, allocated=${allocated}, damaged=${states.damaged}, qualityControl=${states.qualityControl}, safetyStock=${states.safetyStock}`,
    );
  }
  return { sku: d.sku, warehouseCode: d.warehouseCode, onHand, allocated, ...states, lastMovementId: d.movementId, ...stamp(state, e) };
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
      case 'StockStateMoved':
        if (ev.data.fromState === ev.data.toState || !(ev.data.quantity > 0)) {
          throw new ReplayError(e.streamId, `version ${e.version} (StockStateMoved) moves ${ev.data.quantity} from ${ev.data.fromState} to ${ev.data.toState}`);
        }
        return change(state, e, ev.data, ev.data);
      default: {
        const never: never = ev;
        throw new ReplayError(e.streamId, `unknown event ${JSON.stringify(never)}`);
      }
    }
  },
  streamIdOf: (s) => streamIds.stock(s.sku, s.warehouseCode),
  revive: (json, streamId) => {
    const s = reviveObject<StockReplay>(json, streamId, ['sku', 'warehouseCode', 'onHand', 'allocated', 'lastMovementId']);
    // Snapshots taken before the states existed lack them: they were 0.
    return { ...s, damaged: s.damaged ?? 0, qualityControl: s.qualityControl ?? 0, safetyStock: s.safetyStock ?? 0 };
  },
};
