import { invalid } from '../inventory/errors.js';
import { SKU, WAREHOUSE_CODE } from '../inventory/validation.js';
import type { DomainEvent, EventEnvelope, EventType } from './types.js';

/**
 * Stream ids, parsed. The scheme (see types.ts) is `<kind>#<key parts>`; the kind picks
 * the projection that replays the stream.
 */
export type StreamKind = 'warehouse' | 'item' | 'stock' | 'allocation' | 'incoming';

export type StreamRef =
  | { kind: 'warehouse'; code: string }
  | { kind: 'item'; sku: string }
  | { kind: 'stock'; sku: string; warehouseCode: string }
  | { kind: 'allocation'; allocationId: string }
  | { kind: 'incoming'; sku: string; incomingId: string };

const ALLOCATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Parses a stream id; undefined when it does not follow the scheme. */
export function parseStreamId(id: string): StreamRef | undefined {
  const parts = id.split('#');
  const [kind, a, b] = parts;
  switch (kind) {
    case 'warehouse':
      return parts.length === 2 && a !== undefined && WAREHOUSE_CODE.test(a) ? { kind, code: a } : undefined;
    case 'item':
      return parts.length === 2 && a !== undefined && SKU.test(a) ? { kind, sku: a } : undefined;
    case 'stock':
      return parts.length === 3 && a !== undefined && b !== undefined && SKU.test(a) && WAREHOUSE_CODE.test(b)
        ? { kind, sku: a, warehouseCode: b }
        : undefined;
    case 'allocation':
      return parts.length === 2 && a !== undefined && ALLOCATION_ID.test(a) ? { kind, allocationId: a } : undefined;
    case 'incoming':
      return parts.length === 3 && a !== undefined && b !== undefined && SKU.test(a) && ALLOCATION_ID.test(b)
        ? { kind, sku: a, incomingId: b }
        : undefined;
    default:
      return undefined;
  }
}

/** Validates a stream id from a request (INVALID_ARGUMENT naming `field`). */
export function requireStreamId(field: string, id: string): StreamRef {
  if (id === '') throw invalid(field, 'is required');
  const ref = parseStreamId(id);
  if (ref === undefined) {
    throw invalid(
      field,
      `must be warehouse#<code>, item#<sku>, stock#<sku>#<warehouse_code>, allocation#<allocation_id> or incoming#<sku>#<incoming_id>; got ${JSON.stringify(id.slice(0, 120))}`,
    );
  }
  return ref;
}

/** Every event type of the catalog, checked against it by the compiler. */
const TYPES = {
  WarehouseCreated: 'warehouse',
  WarehouseUpdated: 'warehouse',
  ItemCreated: 'item',
  StockReceived: 'stock',
  StockAdjusted: 'stock',
  StockTransferredOut: 'stock',
  StockTransferredIn: 'stock',
  StockAllocated: 'stock',
  StockReleased: 'stock',
  StockFulfilled: 'stock',
  StockStateMoved: 'stock',
  AllocationCreated: 'allocation',
  AllocationReleased: 'allocation',
  AllocationFulfilled: 'allocation',
  AllocationExpired: 'allocation',
  IncomingStockRecorded: 'incoming',
  IncomingStockReceived: 'incoming',
  IncomingStockCancelled: 'incoming',
} as const satisfies Record<EventType, StreamKind>;

/** The events that belong to streams of one kind. */
export type EventOfKind<K extends StreamKind> = Extract<DomainEvent, { type: { [T in EventType]: (typeof TYPES)[T] extends K ? T : never }[EventType] }>;

export const EVENT_TYPES = Object.keys(TYPES) as EventType[];

export const isEventType = (t: string): t is EventType => Object.hasOwn(TYPES, t);

/** The kind of stream an event type belongs to. */
export const streamKindOf = (t: EventType): StreamKind => TYPES[t];

/** The envelope's payload as the catalog's discriminated union. */
export const domainEventOf = (e: EventEnvelope): DomainEvent => ({ type: e.type, data: e.data }) as DomainEvent;

/**
 * The envelope's payload, narrowed to the events of one stream kind; undefined when the
 * event belongs to another kind of stream (the caller reports that).
 */
export function eventOfKind<K extends StreamKind>(e: EventEnvelope, kind: K): EventOfKind<K> | undefined {
  const ev = domainEventOf(e);
  return TYPES[ev.type] === kind ? (ev as EventOfKind<K>) : undefined;
}
