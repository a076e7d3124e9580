import { AllocationStatus, type Allocation as AllocationMessage } from '../gen/inventory/v1/allocation.js';
import type { Item as ItemMessage } from '../gen/inventory/v1/item.js';
import { MovementType, type StockLevel as StockLevelMessage, type StockMovement as StockMovementMessage } from '../gen/inventory/v1/stock.js';
import type { Warehouse as WarehouseMessage } from '../gen/inventory/v1/warehouse.js';
import type { Item } from '../persistence/entities/item.entity.js';
import type { Warehouse } from '../persistence/entities/warehouse.entity.js';
import type { AllocationRecord } from '../persistence/repositories/allocation.repository.js';
import type { MovementRecord } from '../persistence/repositories/stock-movement.repository.js';
import { available, unavailable, type StockLevelState } from '../inventory/stock-level.js';

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

export const toStockLevelMessage = (l: StockLevelState): StockLevelMessage => ({
  sku: l.sku,
  warehouseCode: l.warehouseCode,
  onHand: BigInt(l.onHand),
  allocated: BigInt(l.allocated),
  available: BigInt(available(l)),
  version: BigInt(l.version),
  updateTime: l.updateTime ?? undefined,
  damaged: BigInt(l.damaged),
  qualityControl: BigInt(l.qualityControl),
  safetyStock: BigInt(l.safetyStock),
  unavailable: BigInt(unavailable(l)),
});

const MOVEMENT_TYPE: Record<MovementRecord['type'], MovementType> = {
  RECEIPT: MovementType.MOVEMENT_TYPE_RECEIPT,
  ADJUSTMENT: MovementType.MOVEMENT_TYPE_ADJUSTMENT,
  TRANSFER_OUT: MovementType.MOVEMENT_TYPE_TRANSFER_OUT,
  TRANSFER_IN: MovementType.MOVEMENT_TYPE_TRANSFER_IN,
  ALLOCATION: MovementType.MOVEMENT_TYPE_ALLOCATION,
  RELEASE: MovementType.MOVEMENT_TYPE_RELEASE,
  FULFILMENT: MovementType.MOVEMENT_TYPE_FULFILLMENT,
  EXPIRY: MovementType.MOVEMENT_TYPE_EXPIRY,
  STATE_MOVE: MovementType.MOVEMENT_TYPE_STATE_MOVE,
};

export const toMovementMessage = (m: MovementRecord): StockMovementMessage => ({
  id: BigInt(m.id),
  sku: m.sku,
  warehouseCode: m.warehouseCode,
  type: MOVEMENT_TYPE[m.type],
  onHandDelta: BigInt(m.onHandDelta),
  allocatedDelta: BigInt(m.allocatedDelta),
  reason: m.reason,
  reference: m.reference,
  allocationId: m.allocationId ?? '',
  idempotencyKey: m.idempotencyKey ?? '',
  stockVersion: BigInt(m.stockVersion),
  createTime: m.createTime,
  damagedDelta: BigInt(m.damagedDelta),
  qualityControlDelta: BigInt(m.qualityControlDelta),
  safetyStockDelta: BigInt(m.safetyStockDelta),
});

const ALLOCATION_STATUS: Record<AllocationRecord['status'], AllocationStatus> = {
  ALLOCATED: AllocationStatus.ALLOCATION_STATUS_ALLOCATED,
  RELEASED: AllocationStatus.ALLOCATION_STATUS_RELEASED,
  FULFILLED: AllocationStatus.ALLOCATION_STATUS_FULFILLED,
  EXPIRED: AllocationStatus.ALLOCATION_STATUS_EXPIRED,
};

export const toAllocationMessage = (a: AllocationRecord): AllocationMessage => ({
  allocationId: a.allocationId,
  status: ALLOCATION_STATUS[a.status],
  lines: a.lines.map((l) => ({ sku: l.sku, warehouseCode: l.warehouseCode, quantity: BigInt(l.quantity) })),
  expireTime: a.expireTime ?? undefined,
  version: BigInt(a.version),
  createTime: a.createTime,
  updateTime: a.updateTime,
});
