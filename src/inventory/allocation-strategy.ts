/**
 * Where the units of an allocation come from: a pure function of the requested lines and
 * the stock the caller has locked, so it can be tested without a database.
 *
 * 1. A line naming a warehouse takes its units from that warehouse (which must be active).
 * 2. The lines without a warehouse go, if possible, all to ONE active warehouse that can
 *    fill every one of them (one shipment); the best such warehouse by (priority, code).
 * 3. Otherwise each such line, in request order, goes to the best active warehouse by
 *    (priority, code) that can fill it whole; a line no single warehouse can fill is split
 *    across warehouses in (priority, code) order until it is filled.
 * Units taken by earlier lines are not available to later ones. Parts of lines that land in
 * the same (sku, warehouse) are merged, so the result has one line per level, sorted by
 * (sku, warehouse code): the order in which levels are locked.
 */

export interface RequestedLine {
  readonly sku: string;
  readonly quantity: number;
  /** Undefined: the strategy chooses. */
  readonly warehouseCode: string | undefined;
}

/** A warehouse that holds a level of the sku, with what it can still give. */
export interface Candidate {
  readonly warehouseCode: string;
  readonly priority: number;
  readonly active: boolean;
  readonly available: number;
}

export interface PlacedLine {
  readonly sku: string;
  readonly warehouseCode: string;
  readonly quantity: number;
}

export type Placement =
  | { readonly ok: true; readonly lines: readonly PlacedLine[] }
  | {
      readonly ok: false;
      readonly reason: 'SHORT';
      readonly lineIndex: number;
      readonly sku: string;
      /** Set when the line named its warehouse. */
      readonly warehouseCode: string | undefined;
      readonly requested: number;
      readonly available: number;
    }
  | { readonly ok: false; readonly reason: 'INACTIVE'; readonly lineIndex: number; readonly sku: string; readonly warehouseCode: string };

const byPreference = (a: Candidate, b: Candidate): number =>
  a.priority - b.priority || (a.warehouseCode < b.warehouseCode ? -1 : a.warehouseCode > b.warehouseCode ? 1 : 0);

export function placeAllocation(lines: readonly RequestedLine[], candidatesOf: (sku: string) => readonly Candidate[]): Placement {
  const remaining = new Map<string, number>();
  const placed: PlacedLine[] = [];
  const left = (sku: string, c: Candidate): number => remaining.get(`${sku}#${c.warehouseCode}`) ?? c.available;
  const take = (sku: string, c: Candidate, quantity: number): void => {
    remaining.set(`${sku}#${c.warehouseCode}`, left(sku, c) - quantity);
    placed.push({ sku, warehouseCode: c.warehouseCode, quantity });
  };

  // 1. Lines that name their warehouse.
  for (const [lineIndex, line] of lines.entries()) {
    if (line.warehouseCode === undefined) continue;
    const c = candidatesOf(line.sku).find((x) => x.warehouseCode === line.warehouseCode);
    if (c !== undefined && !c.active) return { ok: false, reason: 'INACTIVE', lineIndex, sku: line.sku, warehouseCode: c.warehouseCode };
    const have = c === undefined ? 0 : left(line.sku, c);
    if (c === undefined || have < line.quantity) {
      return { ok: false, reason: 'SHORT', lineIndex, sku: line.sku, warehouseCode: line.warehouseCode, requested: line.quantity, available: Math.max(0, have) };
    }
    take(line.sku, c, line.quantity);
  }

  const floating = [...lines.entries()].filter(([, l]) => l.warehouseCode === undefined);
  const active = (sku: string) => candidatesOf(sku).filter((c) => c.active).sort(byPreference);

  // 2. One warehouse for all of them, if there is one.
  if (floating.length > 0) {
    const [first] = floating;
    const options = active(first![1].sku).map((c) => c.warehouseCode);
    const fits = options.find((code) =>
      floating.every(([, l]) => {
        const c = candidatesOf(l.sku).find((x) => x.warehouseCode === code && x.active);
        return c !== undefined && left(l.sku, c) >= l.quantity;
      }),
    );
    if (fits !== undefined) {
      for (const [, l] of floating) take(l.sku, candidatesOf(l.sku).find((x) => x.warehouseCode === fits)!, l.quantity);
      return { ok: true, lines: merge(placed) };
    }
  }

  // 3. Line by line: one warehouse per line if possible, else split by preference.
  for (const [lineIndex, line] of floating) {
    const options = active(line.sku).filter((c) => left(line.sku, c) > 0);
    const whole = options.find((c) => left(line.sku, c) >= line.quantity);
    if (whole !== undefined) {
      take(line.sku, whole, line.quantity);
      continue;
    }
    const total = options.reduce((sum, c) => sum + left(line.sku, c), 0);
    if (total < line.quantity) {
      return { ok: false, reason: 'SHORT', lineIndex, sku: line.sku, warehouseCode: undefined, requested: line.quantity, available: total };
    }
    let needed = line.quantity;
    for (const c of options) {
      const part = Math.min(needed, left(line.sku, c));
      take(line.sku, c, part);
      needed -= part;
      if (needed === 0) break;
    }
  }
  return { ok: true, lines: merge(placed) };
}

function merge(parts: readonly PlacedLine[]): PlacedLine[] {
  const byLevel = new Map<string, PlacedLine>();
  for (const p of parts) {
    const key = `${p.sku}#${p.warehouseCode}`;
    const seen = byLevel.get(key);
    byLevel.set(key, seen === undefined ? p : { ...seen, quantity: seen.quantity + p.quantity });
  }
  return [...byLevel.values()].sort((a, b) =>
    a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : a.warehouseCode < b.warehouseCode ? -1 : a.warehouseCode > b.warehouseCode ? 1 : 0,
  );
}
