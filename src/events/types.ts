/**
 * Domain events: what happened, as plain data. Each event belongs to one entity stream;
 * its version in the stream equals the entity's version in PostgreSQL after the change.
 *
 * Stream ids: `warehouse#<code>`, `item#<sku>`, `stock#<sku>#<warehouse code>`,
 * `allocation#<allocation id>`. Skus and warehouse codes cannot contain '#'.
 */

export const streamIds = {
  warehouse: (code: string) => `warehouse#${code}`,
  item: (sku: string) => `item#${sku}`,
  stock: (sku: string, warehouseCode: string) => `stock#${sku}#${warehouseCode}`,
  allocation: (allocationId: string) => `allocation#${allocationId}`,
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

/** The current schema version of every event payload. Bump per type when a payload changes shape. */
export const SCHEMA_VERSION = 1;

export type DomainEvent =
  | { type: 'WarehouseCreated'; data: WarehouseState }
  | { type: 'WarehouseUpdated'; data: { code: string; changes: Partial<Omit<WarehouseState, 'code'>> } }
  | { type: 'ItemCreated'; data: ItemState };

export type EventType = DomainEvent['type'];

/** An event as stored: in the outbox, in DynamoDB, and on the wire. */
export interface EventEnvelope {
  eventId: string;
  streamId: string;
  version: number;
  type: EventType;
  schemaVersion: number;
  correlationId: string;
  occurredAt: Date;
  data: DomainEvent['data'];
  /** Place in the global feed; assigned after commit, so absent on fresh events. */
  position?: number | undefined;
}
