import type { EntityManager } from '@mikro-orm/postgresql';
import type { StockStateName } from '../events/types.js';
import type { CallContext, UnitOfWork } from '../persistence/unit-of-work.js';
import { DomainError, invalid } from './errors.js';
import { once } from './idempotency.js';
import { available, STATE_FIELD, type StateDeltas, type StockLevelState } from './stock-level.js';
import { levelCodec, lockCreating, optKey, requireVersion } from './stock-locks.js';
import * as sv from './stock-validation.js';
import * as v from './validation.js';

export interface MoveStockInput {
  sku: string;
  warehouseCode: string;
  /** undefined for a state the caller did not name (STOCK_STATE_UNSPECIFIED or unknown). */
  fromState: StockStateName | undefined;
  toState: StockStateName | undefined;
  quantity: number | bigint;
  reason: string;
  reference: string;
  expectedVersion: number | undefined;
  idempotencyKey: string;
}

const WIRE_NAME: Readonly<Record<StockStateName, string>> = { available: 'available', ...STATE_FIELD };

/** The state deltas of moving `quantity` from one state to another (available has no column). */
export function moveDeltas(from: StockStateName, to: StockStateName, quantity: number): StateDeltas {
  const d: { -readonly [K in keyof StateDeltas]: number } = {};
  if (from !== 'available') d[from] = -quantity;
  if (to !== 'available') d[to] = quantity;
  return d;
}

/** How many units the state holds right now. */
const inState = (level: StockLevelState, state: StockStateName): number => (state === 'available' ? available(level) : level[state]);

/**
 * MoveStock: units of one level change state (available, damaged, quality_control,
 * safety_stock); on_hand and allocated stay. Like every stock change it locks the level,
 * writes the level, one ledger row (STATE_MOVE, with the state deltas) and one
 * StockStateMoved event in one transaction, at most once per idempotency key.
 */
export class StockMoveService {
  constructor(private readonly uow: UnitOfWork) {}

  move(em: EntityManager, ctx: CallContext, input: MoveStockInput): Promise<StockLevelState> {
    const sku = v.sku('sku', input.sku);
    const warehouseCode = v.warehouseCode('warehouse_code', input.warehouseCode);
    if (input.fromState === undefined) throw invalid('from_state', 'must be one of AVAILABLE, DAMAGED, QUALITY_CONTROL, SAFETY_STOCK');
    if (input.toState === undefined) throw invalid('to_state', 'must be one of AVAILABLE, DAMAGED, QUALITY_CONTROL, SAFETY_STOCK');
    const from = input.fromState;
    const to = input.toState;
    if (from === to) throw invalid('to_state', 'must differ from from_state');
    const quantity = sv.quantity('quantity', input.quantity);
    const reason = v.text('reason', input.reason, 1, 200, 'multiline');
    const reference = v.text('reference', input.reference, 0, 200);
    const expected =
      input.expectedVersion === undefined ? undefined : v.intInRange('expected_version', input.expectedVersion, 0, Number.MAX_SAFE_INTEGER);
    const key = sv.idempotencyKey(input.idempotencyKey);
    const request = { sku, warehouseCode, from, to, quantity, reason, reference, expected: expected ?? null };
    return this.uow.run(em, ctx, (tx) =>
      once(tx, key, 'MoveStock', request, levelCodec, async () => {
        const changes = await lockCreating(tx, sku, [{ sku, warehouseCode }], ['warehouse_code']);
        const level = changes.level(sku, warehouseCode);
        requireVersion(level, expected);
        const have = inState(level, from);
        if (have < quantity) {
          throw new DomainError(
            'FAILED_PRECONDITION',
            `cannot move ${quantity} units of sku ${JSON.stringify(sku)} in warehouse ${JSON.stringify(warehouseCode)} out of ${WIRE_NAME[from]}: it holds ${have}` +
              (from === 'available' && level.allocated > 0 ? ` (allocated units, ${level.allocated} of them, never move)` : ''),
            { sku, warehouse_code: warehouseCode, from_state: WIRE_NAME[from], requested: quantity, in_state: have },
          );
        }
        const next = changes.apply(
          sku,
          warehouseCode,
          { type: 'STATE_MOVE', onHandDelta: 0, allocatedDelta: 0, stateDeltas: moveDeltas(from, to, quantity), reason, reference, ...optKey(key) },
          tx.now,
          (c) => ({ type: 'StockStateMoved', data: { ...c, fromState: from, toState: to, quantity, reason, reference } }),
        );
        await changes.commit(tx);
        return next;
      }),
    );
  }
}
