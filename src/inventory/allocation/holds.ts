/**
 * What an allocation still holds, and how fulfilling, releasing and expiring units change
 * it: pure functions shared by the use cases and the replay projection (so the event store
 * and PostgreSQL settle an allocation by the same rules). Imports nothing.
 *
 * Each line keeps its placed `quantity` and counts settled units beside it; the held rest
 * is `quantity - fulfilled - released - expired`. An allocation holds stock while any line
 * holds units: ALLOCATED, or PARTIALLY_FULFILLED once some units shipped. When nothing is
 * held any more it is FULFILLED if any unit shipped (the order went out, maybe short),
 * otherwise RELEASED or EXPIRED after what settled its last units.
 */

export type HoldStatus = 'ALLOCATED' | 'PARTIALLY_FULFILLED' | 'RELEASED' | 'FULFILLED' | 'EXPIRED';

/** How units leave a hold. */
export type Settlement = 'FULFIL' | 'RELEASE' | 'EXPIRE';

export interface HeldLine {
  readonly sku: string;
  readonly warehouseCode: string;
  readonly quantity: number;
  readonly fulfilled: number;
  readonly released: number;
  readonly expired: number;
}

/** Units of one line of the allocation (a line is one sku in one warehouse). */
export interface LineUnits {
  readonly sku: string;
  readonly warehouseCode: string;
  readonly quantity: number;
}

export const HOLDING: readonly HoldStatus[] = ['ALLOCATED', 'PARTIALLY_FULFILLED'];

export const holds = (status: HoldStatus): boolean => HOLDING.includes(status);

export const heldOf = (l: HeldLine): number => l.quantity - l.fulfilled - l.released - l.expired;

export const unsettled = (l: LineUnits): HeldLine => ({ sku: l.sku, warehouseCode: l.warehouseCode, quantity: l.quantity, fulfilled: 0, released: 0, expired: 0 });

/** Every unit still held, line by line (lines holding nothing left out). */
export const allHeld = (lines: readonly HeldLine[]): LineUnits[] =>
  lines.filter((l) => heldOf(l) > 0).map((l) => ({ sku: l.sku, warehouseCode: l.warehouseCode, quantity: heldOf(l) }));

export type SettleResult =
  | { readonly ok: true; readonly lines: HeldLine[]; readonly status: HoldStatus }
  /** `units[index]` names no line of the allocation, or more units than its line holds. */
  | { readonly ok: false; readonly index: number; readonly held: number | undefined };

/** Settles `units` (each naming a line of the allocation at most once) by `how`. */
export function settle(lines: readonly HeldLine[], how: Settlement, units: readonly LineUnits[]): SettleResult {
  const next = lines.map((l) => ({ ...l }));
  for (const [index, u] of units.entries()) {
    const line = next.find((l) => l.sku === u.sku && l.warehouseCode === u.warehouseCode);
    if (line === undefined) return { ok: false, index, held: undefined };
    const held = heldOf(line);
    if (u.quantity < 1 || u.quantity > held) return { ok: false, index, held };
    switch (how) {
      case 'FULFIL':
        line.fulfilled += u.quantity;
        break;
      case 'RELEASE':
        line.released += u.quantity;
        break;
      case 'EXPIRE':
        line.expired += u.quantity;
        break;
      default: {
        const never: never = how;
        throw new Error(`unexpected settlement ${String(never)}`);
      }
    }
  }
  return { ok: true, lines: next, status: statusAfter(next, how) };
}

/** The status of an allocation whose last change was `how`. */
export function statusAfter(lines: readonly HeldLine[], how: Settlement): HoldStatus {
  const shipped = lines.some((l) => l.fulfilled > 0);
  if (lines.some((l) => heldOf(l) > 0)) return shipped ? 'PARTIALLY_FULFILLED' : 'ALLOCATED';
  if (shipped) return 'FULFILLED';
  return how === 'EXPIRE' ? 'EXPIRED' : 'RELEASED';
}

/** Lines in (sku, warehouse code) order, the order allocations keep them in. */
export const byLine = <L extends { sku: string; warehouseCode: string }>(a: L, b: L): number =>
  a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : a.warehouseCode < b.warehouseCode ? -1 : a.warehouseCode > b.warehouseCode ? 1 : 0;
