import type { Item as ItemMessage } from '../gen/inventory/v1/item.js';
import type { Warehouse as WarehouseMessage } from '../gen/inventory/v1/warehouse.js';
import type { Item } from '../persistence/entities/item.entity.js';
import type { Warehouse } from '../persistence/entities/warehouse.entity.js';

/** Domain/persistence objects to proto messages. Nothing here decides anything. */

export const toWarehouseMessage = (w: Warehouse): WarehouseMessage => ({
  code: w.code,
  name: w.name,
  region: w.region,
  priority: w.priority,
  active: w.active,
  version: BigInt(w.version),
  createTime: w.createdAt,
  updateTime: w.updatedAt,
});

export const toItemMessage = (i: Item): ItemMessage => ({
  sku: i.sku,
  name: i.name,
  description: i.description,
  version: BigInt(i.version),
  createTime: i.createdAt,
  updateTime: i.updatedAt,
});

/** An optional int64 from the wire, as a number for the domain (range-checked there). */
export const optionalInt = (v: bigint | undefined): number | undefined =>
  v === undefined ? undefined : v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER) ? Number.NaN : Number(v);
