import { StockLevel } from '../persistence/entities/stock-level.entity.js';
import type { LevelKey, StockLevelRepository } from '../persistence/repositories/stock-level.repository.js';
import type { Tx } from '../persistence/unit-of-work.js';
import { DomainError, notFoundField } from './errors.js';
import { levelKey, type StockLevelState } from './stock-level.js';
import { StockChanges } from './stock-changes.js';

/**
 * Locks the levels of one sku in the given warehouses, creating missing ones first; NOT_FOUND
 * (naming the request field) for an unknown sku or warehouse.
 */
export async function lockCreating(tx: Tx, sku: string, keys: LevelKey[], fields: string[]): Promise<StockChanges> {
  const repo = tx.em.getRepository(StockLevel);
  let locked = await repo.lock(keys);
  if (locked.size < keys.length) {
    await requireExisting(repo, sku, keys.map((k) => k.warehouseCode), fields);
    await repo.ensure(keys.filter((k) => !locked.has(levelKey(k.sku, k.warehouseCode))), tx.now);
    locked = await repo.lock(keys);
  }
  return new StockChanges(locked.values());
}

/** NOT_FOUND naming the field for an unknown sku (unless `sku` is undefined) or warehouse. */
export async function requireExisting(repo: StockLevelRepository, sku: string | undefined, codes: string[], fields: string[]): Promise<void> {
  const found = await repo.existing(sku === undefined ? [] : [sku], codes);
  if (sku !== undefined && !found.skus.has(sku)) throw notFoundField('sku', 'item', sku);
  codes.forEach((code, i) => {
    if (!found.codes.has(code)) throw notFoundField(fields[i] ?? 'warehouse_code', 'warehouse', code);
  });
}

/** VERSION_CONFLICT unless the level is at `expected` (when a caller asked for a version). */
export function requireVersion(level: StockLevelState, expected: number | undefined): void {
  if (expected === undefined || level.version === expected) return;
  throw new DomainError(
    'VERSION_CONFLICT',
    `stock level of sku ${JSON.stringify(level.sku)} in warehouse ${JSON.stringify(level.warehouseCode)} is at version ${level.version}, not the expected ${expected}`,
    { field: 'expected_version', actual: level.version, expected },
  );
}

/** Stored idempotent responses hold levels as JSON; responses stored before the states lack them (0). */
const encodeLevel = (l: StockLevelState) => ({ ...l, updateTime: l.updateTime?.toISOString() ?? null });
const decodeLevel = (j: unknown): StockLevelState => {
  const o = j as ReturnType<typeof encodeLevel>;
  return {
    ...o,
    damaged: o.damaged ?? 0,
    qualityControl: o.qualityControl ?? 0,
    safetyStock: o.safetyStock ?? 0,
    updateTime: o.updateTime === null ? null : new Date(o.updateTime),
  };
};
export const levelCodec = { encode: encodeLevel, decode: decodeLevel };
export const transferCodec = {
  encode: (r: { from: StockLevelState; to: StockLevelState }) => ({ from: encodeLevel(r.from), to: encodeLevel(r.to) }),
  decode: (j: unknown) => {
    const o = j as { from: unknown; to: unknown };
    return { from: decodeLevel(o.from), to: decodeLevel(o.to) };
  },
};

/** Optional fields without `undefined` values (exactOptionalPropertyTypes-friendly). */
export const optKey = (key: string | undefined): { idempotencyKey?: string } => (key === undefined ? {} : { idempotencyKey: key });
