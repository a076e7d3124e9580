import { DomainError } from './errors.js';

/**
 * The states units on hand can be in while they may not be allocated. Each is a count of
 * units kept on hand: damaged goods, goods held for quality control, and safety stock (a
 * floor the merchant keeps back).
 */
export const UNAVAILABLE_STATES = ['damaged', 'qualityControl', 'safetyStock'] as const;
export type UnavailableState = (typeof UNAVAILABLE_STATES)[number];

/** The wire (and column) spelling of each state. */
export const STATE_FIELD: Readonly<Record<UnavailableState, string>> = {
  damaged: 'damaged',
  qualityControl: 'quality_control',
  safetyStock: 'safety_stock',
};

/** The stock of one sku in one warehouse, as the domain sees it. */
export interface StockLevelState {
  readonly sku: string;
  readonly warehouseCode: string;
  readonly onHand: number;
  readonly allocated: number;
  readonly damaged: number;
  readonly qualityControl: number;
  readonly safetyStock: number;
  /** Version of the `stock#` stream; 0 for a level that never changed. */
  readonly version: number;
  /** Null for a level that never changed. */
  readonly updateTime: Date | null;
}

/** Skus and warehouse codes cannot contain '#', so this key is unambiguous. */
export const levelKey = (sku: string, warehouseCode: string): string => `${sku}#${warehouseCode}`;

/** Units on hand in an unavailable state. */
export const unavailable = (level: Pick<StockLevelState, UnavailableState>): number =>
  level.damaged + level.qualityControl + level.safetyStock;

/** What can still be allocated: on hand, neither allocated nor unavailable. */
export const available = (level: StockLevelState): number => level.onHand - level.allocated - unavailable(level);

export const emptyLevel = (sku: string, warehouseCode: string): StockLevelState => ({
  sku,
  warehouseCode,
  onHand: 0,
  allocated: 0,
  damaged: 0,
  qualityControl: 0,
  safetyStock: 0,
  version: 0,
  updateTime: null,
});

/** The most units one level may hold: keeps every sum exact in a JavaScript number. */
export const MAX_ON_HAND = 1_000_000_000_000_000;

/** Changes of the unavailable states; a missing state does not change. */
export type StateDeltas = Readonly<Partial<Record<UnavailableState, number>>>;

const where = (level: StockLevelState) => `sku ${JSON.stringify(level.sku)} in warehouse ${JSON.stringify(level.warehouseCode)}`;

const facts = (level: StockLevelState) => ({
  sku: level.sku,
  warehouse_code: level.warehouseCode,
  on_hand: level.onHand,
  allocated: level.allocated,
  damaged: level.damaged,
  quality_control: level.qualityControl,
  safety_stock: level.safetyStock,
});

/**
 * Why on_hand of `level` cannot become `onHand`, or undefined when it can: the one check
 * behind AdjustStock, fulfilment and bulk counts. On hand must hold every allocated and
 * every unavailable unit; the message names the parts in the way, so the caller knows
 * whether to release allocations or move units out of a state first.
 */
export function onHandRefusal(level: StockLevelState, onHand: number): DomainError | undefined {
  if (onHand < 0) {
    return new DomainError('FAILED_PRECONDITION', `on_hand of ${where(level)} cannot drop below 0: it is ${level.onHand}, the change asks for ${onHand}`, facts(level));
  }
  if (onHand > MAX_ON_HAND) return new DomainError('FAILED_PRECONDITION', `on_hand of ${where(level)} would exceed ${MAX_ON_HAND}`, facts(level));
  const held = level.allocated + unavailable(level);
  if (onHand >= held) return undefined;
  const parts = [
    level.allocated > 0 ? `${level.allocated} allocated` : undefined,
    ...UNAVAILABLE_STATES.map((s) => (level[s] > 0 ? `${level[s]} ${STATE_FIELD[s]}` : undefined)),
  ].filter((p): p is string => p !== undefined);
  const blocking = [level.allocated > 0 ? 'allocated' : undefined, ...UNAVAILABLE_STATES.map((s) => (level[s] > 0 ? STATE_FIELD[s] : undefined))]
    .filter((p): p is string => p !== undefined)
    .join(',');
  return new DomainError(
    'FAILED_PRECONDITION',
    `on_hand of ${where(level)} cannot drop to ${onHand}: ${held} units must stay on hand (${parts.join(', ')})`,
    { ...facts(level), requested_on_hand: onHand, blocking },
  );
}

/**
 * One change of a level. Enforces the invariants the database also checks (every count
 * at least 0, allocated + unavailable <= on_hand), so a bad change fails with a clear
 * domain error instead of a constraint violation; the CHECK constraints stay as the last
 * line of defence.
 */
export function applyChange(level: StockLevelState, onHandDelta: number, allocatedDelta: number, now: Date, states: StateDeltas = {}): StockLevelState {
  const next: StockLevelState = {
    ...level,
    onHand: level.onHand + onHandDelta,
    allocated: level.allocated + allocatedDelta,
    damaged: level.damaged + (states.damaged ?? 0),
    qualityControl: level.qualityControl + (states.qualityControl ?? 0),
    safetyStock: level.safetyStock + (states.safetyStock ?? 0),
    version: level.version + 1,
    updateTime: now,
  };
  if (next.allocated < 0) throw new DomainError('FAILED_PRECONDITION', `allocated of ${where(level)} cannot drop below 0`, facts(level));
  for (const s of UNAVAILABLE_STATES) {
    if (next[s] < 0) {
      throw new DomainError('FAILED_PRECONDITION', `${STATE_FIELD[s]} of ${where(level)} cannot drop below 0: it is ${level[s]}, the change is ${states[s] ?? 0}`, facts(level));
    }
  }
  if (onHandDelta === 0 && next.allocated + unavailable(next) > next.onHand) {
    // on_hand stays; what grew (an allocation, a move into a state) takes more than is available
    throw new DomainError(
      'FAILED_PRECONDITION',
      `not enough available stock of ${where(level)}: ${available(level)} available, the change needs ${next.allocated + unavailable(next) - level.allocated - unavailable(level)}`,
      { ...facts(level), available: available(level) },
    );
  }
  const refusal = onHandRefusal({ ...next, onHand: level.onHand }, next.onHand);
  if (refusal !== undefined) throw refusal;
  return next;
}
