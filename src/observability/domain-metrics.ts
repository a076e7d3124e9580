import { Counter, Histogram, type Registry } from 'prom-client';
import type { EventType } from '../events/types.js';
import type { AllocationObserver, AllocationOutcome } from '../inventory/allocations.js';
import type { CommitListener } from '../persistence/unit-of-work.js';

// Listed so every series exists from the first scrape (rate() needs a zero to start from).
const EVENT_TYPES = [
  'WarehouseCreated',
  'WarehouseUpdated',
  'ItemCreated',
  'StockReceived',
  'StockAdjusted',
  'StockTransferredOut',
  'StockTransferredIn',
  'StockAllocated',
  'StockReleased',
  'StockFulfilled',
  'StockStateMoved',
  'AllocationCreated',
  'AllocationReleased',
  'AllocationFulfilled',
  'AllocationExpired',
  'IncomingStockRecorded',
  'IncomingStockReceived',
  'IncomingStockCancelled',
] as const satisfies readonly EventType[];
// Fails to compile when the catalog gains a type this list lacks.
const everyType: Exclude<EventType, (typeof EVENT_TYPES)[number]> extends never ? true : never = true;
void everyType;

const OUTCOMES: readonly AllocationOutcome[] = ['created', 'replayed', 'insufficient_stock', 'idempotency_mismatch', 'rejected', 'expired'];

export interface DomainMetrics {
  readonly allocations: AllocationObserver;
  /** A unit-of-work commit listener: counts the committed events and stock movements. */
  readonly committed: CommitListener;
}

/**
 * Allocation outcomes and batch sizes, and stock movements by type, read from the
 * committed events (the `Stock*` event types are the movement types; `type` is bounded
 * by the event catalog).
 */
export function registerDomainMetrics(registry: Registry): DomainMetrics {
  const registers = [registry];
  const outcomes = new Counter({
    name: 'inventory_allocations_total',
    help: 'AllocateStock calls by outcome (created, replayed, insufficient_stock, idempotency_mismatch, rejected), and expiries (expired).',
    labelNames: ['outcome'],
    registers,
  });
  for (const o of OUTCOMES) outcomes.inc({ outcome: o }, 0);
  const batches = new Histogram({
    name: 'inventory_allocation_batch_size',
    help: 'AllocateStock calls served by one batch transaction (ALLOCATION_BATCH_MAX caps it).',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000],
    registers,
  });
  const movements = new Counter({
    name: 'inventory_stock_movements_total',
    help: 'Committed stock movements by event type (StockReceived, StockAdjusted, StockAllocated, ...).',
    labelNames: ['type'],
    registers,
  });
  const events = new Counter({
    name: 'inventory_events_recorded_total',
    help: 'Events committed to the outbox by type.',
    labelNames: ['type'],
    registers,
  });
  for (const type of EVENT_TYPES) {
    events.inc({ type }, 0);
    if (type.startsWith('Stock')) movements.inc({ type }, 0);
  }
  return {
    allocations: { outcome: (o) => outcomes.inc({ outcome: o }), batch: (n) => batches.observe(n) },
    committed: (rows) => {
      for (const r of rows) {
        events.inc({ type: r.type });
        if (r.type.startsWith('Stock')) movements.inc({ type: r.type });
      }
    },
  };
}
