import { DomainError } from './errors.js';

/** The stock of one sku in one warehouse, as the domain sees it. */
export interface StockLevelState {
  readonly sku: string;
  readonly warehouseCode: string;
  readonly onHand: number;
  readonly allocated: number;
  /** Version of the `stock#` stream; 0 for a level that never changed. */
  readonly version: number;
  /** Null for a level that never changed. */
  readonly updateTime: Date | null;
}

/** Skus and warehouse codes cannot contain '#', so this key is unambiguous. */
export const levelKey = (sku: string, warehouseCode: string): string => `${sku}#${warehouseCode}`;

export const available = (level: StockLevelState): number => level.onHand - level.allocated;

export const emptyLevel = (sku: string, warehouseCode: string): StockLevelState => ({
  sku,
  warehouseCode,
  onHand: 0,
  allocated: 0,
  version: 0,
  updateTime: null,
});

/** The most units one level may hold: keeps every sum exact in a JavaScript number. */
export const MAX_ON_HAND = 1_000_000_000_000_000;

/**
 * One change of a level. Enforces the invariants the database also checks
 * (0 <= allocated <= on_hand), so a bad change fails with a clear domain error instead of
 * a constraint violation; the CHECK constraints stay as the last line of defence.
 */
export function applyChange(level: StockLevelState, onHandDelta: number, allocatedDelta: number, now: Date): StockLevelState {
  const onHand = level.onHand + onHandDelta;
  const allocated = level.allocated + allocatedDelta;
  const where = `sku ${JSON.stringify(level.sku)} in warehouse ${JSON.stringify(level.warehouseCode)}`;
  const facts = { sku: level.sku, warehouse_code: level.warehouseCode, on_hand: level.onHand, allocated: level.allocated };
  if (onHand < 0) {
    throw new DomainError('FAILED_PRECONDITION', `on_hand of ${where} cannot drop below 0: it is ${level.onHand}, the change is ${onHandDelta}`, facts);
  }
  if (onHand > MAX_ON_HAND) {
    throw new DomainError('FAILED_PRECONDITION', `on_hand of ${where} would exceed ${MAX_ON_HAND}`, facts);
  }
  if (allocated < 0) {
    throw new DomainError('FAILED_PRECONDITION', `allocated of ${where} cannot drop below 0`, facts);
  }
  if (allocated > onHand) {
    throw new DomainError(
      'FAILED_PRECONDITION',
      `on_hand of ${where} cannot drop below the ${allocated} allocated units: it would be ${onHand}`,
      facts,
    );
  }
  return { ...level, onHand, allocated, version: level.version + 1, updateTime: now };
}
