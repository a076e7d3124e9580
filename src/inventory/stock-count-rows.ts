import { hash } from 'node:crypto';
import { DomainError } from './errors.js';
import { MAX_ON_HAND, type StockLevelState } from './stock-level.js';
import * as v from './validation.js';

/** One row of a cycle count as it arrived; `row` is its position in the stream, from 1. */
export interface CountRow {
  readonly row: number;
  readonly sku: string;
  readonly warehouseCode: string;
  readonly countedOnHand: number | bigint;
  readonly expectedVersion: number | bigint | undefined;
}

/** A well-formed row. */
export interface CheckedRow {
  readonly row: number;
  readonly sku: string;
  readonly warehouseCode: string;
  readonly counted: number;
  readonly expected: number | undefined;
}

export type RejectionReason =
  | 'INVALID_ROW'
  | 'UNKNOWN_SKU'
  | 'UNKNOWN_WAREHOUSE'
  | 'VERSION_CONFLICT'
  | 'BELOW_COMMITTED'
  | 'DUPLICATE'
  | 'CHANGED_ON_RERUN'
  | 'IMPORT_TOO_LARGE';

export type RowOutcome =
  | { readonly kind: 'APPLIED' }
  | { readonly kind: 'UNCHANGED' }
  | { readonly kind: 'REJECTED'; readonly reason: RejectionReason; readonly message: string };

/** What became of one row; `earlier` when a previous run of the import decided it. */
export interface DecidedRow {
  readonly row: number;
  readonly sku: string;
  readonly warehouseCode: string;
  readonly outcome: RowOutcome;
  readonly earlier: boolean;
}

/** The most rows one import may hold; later rows are rejected, never applied. */
export const MAX_IMPORT_ROWS = 100_000;

export const rejected = (reason: RejectionReason, message: string): RowOutcome => ({ kind: 'REJECTED', reason, message });

/**
 * What identifies a row's content, so a rerun that sends something else under a row
 * number is told instead of being given the first run's answer.
 */
export function rowHash(r: CountRow): string {
  const version = r.expectedVersion === undefined ? null : String(r.expectedVersion);
  // The one-shot hash: the same digest as createHash().update().digest(), at a third of the CPU.
  return hash('sha256', JSON.stringify([r.sku, r.warehouseCode, String(r.countedOnHand), version]), 'hex');
}

/** The row's fields checked one by one; the first malformed one rejects the row, naming it. */
export function checkRow(r: CountRow): CheckedRow | RowOutcome {
  try {
    return {
      row: r.row,
      sku: v.sku('sku', r.sku),
      warehouseCode: v.warehouseCode('warehouse_code', r.warehouseCode),
      counted: v.intInRange('counted_on_hand', r.countedOnHand, 0, MAX_ON_HAND),
      expected: r.expectedVersion === undefined ? undefined : v.intInRange('expected_version', r.expectedVersion, 0, Number.MAX_SAFE_INTEGER),
    };
  } catch (err) {
    if (err instanceof DomainError && err.code === 'INVALID_ARGUMENT') return rejected('INVALID_ROW', err.message);
    throw err;
  }
}

export const isChecked = (c: CheckedRow | RowOutcome): c is CheckedRow => 'row' in c;

/**
 * Set-to-count over one locked level: unchanged when the count confirms the books, a
 * version conflict when the counter saw another version, otherwise the on_hand delta to
 * apply (whose own checks may still reject it).
 */
export function decideCount(level: StockLevelState, row: CheckedRow): { kind: 'delta'; delta: number } | RowOutcome {
  if (row.expected !== undefined && level.version !== row.expected) {
    return rejected('VERSION_CONFLICT', `expected_version: the level is at version ${level.version}, not ${row.expected}`);
  }
  const delta = row.counted - level.onHand;
  return delta === 0 ? { kind: 'UNCHANGED' } : { kind: 'delta', delta };
}
