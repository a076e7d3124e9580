import type { Event } from '../gen/inventory/v1/events.js';
import { ReleaseCause } from '../gen/inventory/v1/events.js';
import { domainEventOf } from '../events/streams.js';
import { toStockStateMessage } from './stock-state-mappers.js';
import type { DomainEvent, EventEnvelope, StockChange } from '../events/types.js';

/**
 * Stored events to the wire: the envelope's fields plus the typed payload in the `oneof`.
 * The switch is exhaustive: an event type added to the catalog without a case here does
 * not compile.
 */
export function toEventMessage(e: EventEnvelope): Event {
  return {
    eventId: e.eventId,
    streamId: e.streamId,
    version: BigInt(e.version),
    type: e.type,
    occurTime: e.occurredAt,
    schemaVersion: e.schemaVersion,
    correlationId: e.correlationId,
    actor: e.actor ?? 'unknown',
    position: BigInt(e.position ?? 0),
    payload: toPayload(domainEventOf(e)),
  };
}

const big = (n: number): bigint => BigInt(n);

function stockChange(d: StockChange) {
  return {
    sku: d.sku,
    warehouseCode: d.warehouseCode,
    onHandDelta: big(d.onHandDelta),
    allocatedDelta: big(d.allocatedDelta),
    onHand: big(d.onHand),
    allocated: big(d.allocated),
    movementId: big(d.movementId),
  };
}

export function toPayload(ev: DomainEvent): Event['payload'] {
  switch (ev.type) {
    case 'WarehouseCreated':
      return { $case: 'warehouseCreated', value: { ...ev.data } };
    case 'WarehouseUpdated':
      return { $case: 'warehouseUpdated', value: { code: ev.data.code, ...ev.data.changes } };
    case 'ItemCreated':
      return { $case: 'itemCreated', value: { ...ev.data } };
    case 'StockReceived':
      return { $case: 'stockReceived', value: { ...stockChange(ev.data), reference: ev.data.reference, incomingId: ev.data.incomingId ?? '' } };
    case 'StockAdjusted':
      return {
        $case: 'stockAdjusted',
        value: { ...stockChange(ev.data), reason: ev.data.reason, reference: ev.data.reference },
      };
    case 'StockTransferredOut':
      return {
        $case: 'stockTransferredOut',
        value: { ...stockChange(ev.data), toWarehouseCode: ev.data.toWarehouseCode, reference: ev.data.reference },
      };
    case 'StockTransferredIn':
      return {
        $case: 'stockTransferredIn',
        value: { ...stockChange(ev.data), fromWarehouseCode: ev.data.fromWarehouseCode, reference: ev.data.reference },
      };
    case 'StockAllocated':
      return { $case: 'stockAllocated', value: { ...stockChange(ev.data), allocationId: ev.data.allocationId } };
    case 'StockReleased':
      return {
        $case: 'stockReleased',
        value: {
          ...stockChange(ev.data),
          allocationId: ev.data.allocationId,
          cause: ev.data.cause === 'EXPIRED' ? ReleaseCause.RELEASE_CAUSE_EXPIRED : ReleaseCause.RELEASE_CAUSE_RELEASED,
        },
      };
    case 'StockFulfilled':
      return { $case: 'stockFulfilled', value: { ...stockChange(ev.data), allocationId: ev.data.allocationId } };
    case 'StockStateMoved':
      return {
        $case: 'stockStateMoved',
        value: {
          ...stockChange(ev.data),
          fromState: toStockStateMessage(ev.data.fromState),
          toState: toStockStateMessage(ev.data.toState),
          quantity: big(ev.data.quantity),
          damaged: big(ev.data.damaged ?? 0),
          qualityControl: big(ev.data.qualityControl ?? 0),
          safetyStock: big(ev.data.safetyStock ?? 0),
          reason: ev.data.reason,
          reference: ev.data.reference,
        },
      };
    case 'AllocationCreated':
      return {
        $case: 'allocationCreated',
        value: {
          allocationId: ev.data.allocationId,
          lines: ev.data.lines.map((l) => ({ sku: l.sku, warehouseCode: l.warehouseCode, quantity: big(l.quantity) })),
          expireTime: ev.data.expireTime === null ? undefined : new Date(ev.data.expireTime),
        },
      };
    case 'AllocationReleased':
      return { $case: 'allocationReleased', value: { allocationId: ev.data.allocationId } };
    case 'AllocationFulfilled':
      return { $case: 'allocationFulfilled', value: { allocationId: ev.data.allocationId } };
    case 'AllocationExpired':
      return { $case: 'allocationExpired', value: { allocationId: ev.data.allocationId } };
    case 'IncomingStockRecorded':
      return {
        $case: 'incomingStockRecorded',
        value: { ...ev.data, quantity: big(ev.data.quantity), expectedTime: new Date(ev.data.expectedTime) },
      };
    case 'IncomingStockReceived':
      return { $case: 'incomingStockReceived', value: { ...ev.data, quantity: big(ev.data.quantity), received: big(ev.data.received) } };
    case 'IncomingStockCancelled':
      return { $case: 'incomingStockCancelled', value: { ...ev.data, cancelled: big(ev.data.cancelled) } };
    default: {
      const never: never = ev;
      throw new Error(`no wire mapping for event ${JSON.stringify(never)}`);
    }
  }
}
