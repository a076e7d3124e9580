/**
 * Domain events: what happened, as plain data. This file is the event catalog: every
 * event the service emits is one member of `DomainEvent`.
 *
 * Each event belongs to one entity stream; its version in the stream equals the entity's
 * version in PostgreSQL after the change, so the two stores can be compared.
 * Stream ids: `warehouse#<code>`, `item#<sku>`, `stock#<sku>#<warehouse code>`,
 * `allocation#<allocation id>`, `incoming#<sku>#<incoming id>`. Skus, warehouse codes and
 * allocation and incoming ids cannot contain '#'.
 *
 * Stock events carry both the deltas and the resulting on_hand/allocated, so a replay can
 * rebuild a level from its newest event alone and check the deltas add up.
 */

export const streamIds = {
  warehouse: (code: string) => `warehouse#${code}`,
  item: (sku: string) => `item#${sku}`,
  stock: (sku: string, warehouseCode: string) => `stock#${sku}#${warehouseCode}`,
  allocation: (allocationId: string) => `allocation#${allocationId}`,
  /** The sku is part of the id so that a change names the `availability#SKU` cache entry it makes stale. */
  incoming: (sku: string, incomingId: string) => `incoming#${sku}#${incomingId}`,
} as const;

export interface WarehouseState {
  code: string;
  name: string;
  region: string;
  priority: number;
  active: boolean;
}

export interface ItemState {
  sku: string;
  name: string;
  description: string;
}

/** Common to every event of a `stock#` stream. */
export interface StockChange {
  sku: string;
  warehouseCode: string;
  onHandDelta: number;
  allocatedDelta: number;
  /** on_hand after the change. */
  onHand: number;
  /** allocated after the change. */
  allocated: number;
  /**
   * The unavailable states after the change. Absent from events recorded before the
   * states existed (all three were 0 then); only StockStateMoved changes them.
   */
  damaged?: number;
  qualityControl?: number;
  safetyStock?: number;
  /** The ledger row (stock_movement.id) written with the change. */
  movementId: number;
}

/** A stock state as events name it: `available` or one of the unavailable states. */
export type StockStateName = 'available' | 'damaged' | 'qualityControl' | 'safetyStock';

/** What MoveStock moved: `quantity` units from one state to another, on_hand unchanged. */
export interface StateMove {
  fromState: StockStateName;
  toState: StockStateName;
  quantity: number;
  reason: string;
  reference: string;
}

export interface AllocationLineData {
  sku: string;
  warehouseCode: string;
  quantity: number;
}

/** The current schema version of every event payload. Bump when a payload changes shape. */
export const SCHEMA_VERSION = 1;

export type DomainEvent =
  // warehouse#<code>
  | { type: 'WarehouseCreated'; data: WarehouseState }
  | { type: 'WarehouseUpdated'; data: { code: string; changes: Partial<Omit<WarehouseState, 'code'>> } }
  // item#<sku>
  | { type: 'ItemCreated'; data: ItemState }
  // stock#<sku>#<warehouse>
  | { type: 'StockReceived'; data: StockChange & { reference: string; /** Set when received against incoming stock. */ incomingId?: string } }
  | { type: 'StockAdjusted'; data: StockChange & { reason: string; reference: string } }
  | { type: 'StockTransferredOut'; data: StockChange & { toWarehouseCode: string; reference: string } }
  | { type: 'StockTransferredIn'; data: StockChange & { fromWarehouseCode: string; reference: string } }
  | { type: 'StockAllocated'; data: StockChange & { allocationId: string } }
  | { type: 'StockReleased'; data: StockChange & { allocationId: string; cause: 'RELEASED' | 'EXPIRED' } }
  | { type: 'StockFulfilled'; data: StockChange & { allocationId: string } }
  | { type: 'StockStateMoved'; data: StockChange & StateMove }
  // allocation#<id>
  | {
      type: 'AllocationCreated';
      data: {
        allocationId: string;
        lines: AllocationLineData[];
        expireTime: string | null;
        /**
         * Fingerprint of the AllocateStock request (allocation.request_hash), internal: kept
         * so that a rebuilt allocation still tells a retry from a clash. Not on the wire.
         */
        requestHash?: string;
      };
    }
  | { type: 'AllocationReleased'; data: { allocationId: string } }
  | { type: 'AllocationFulfilled'; data: { allocationId: string } }
  | { type: 'AllocationExpired'; data: { allocationId: string } }
  // incoming#<sku>#<incoming id>
  | { type: 'IncomingStockRecorded'; data: IncomingKey & { quantity: number; expectedTime: string; reference: string } }
  | { type: 'IncomingStockReceived'; data: IncomingKey & { quantity: number; received: number; reference: string } }
  | { type: 'IncomingStockCancelled'; data: IncomingKey & { reason: string; cancelled: number } };

/** What every incoming stock event names. */
export interface IncomingKey {
  incomingId: string;
  sku: string;
  warehouseCode: string;
}

export type EventType = DomainEvent['type'];

/** An event as stored: in the outbox, in DynamoDB, and on the wire. */
export interface EventEnvelope {
  eventId: string;
  streamId: string;
  version: number;
  type: EventType;
  schemaVersion: number;
  correlationId: string;
  /** Who caused it (CallContext.actor); read as `unknown` from events stored before actors were. */
  actor?: string | undefined;
  occurredAt: Date;
  data: DomainEvent['data'];
  /** Place in the global feed; assigned after commit, so absent on fresh events. */
  position?: number | undefined;
}
