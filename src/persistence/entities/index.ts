import { Allocation } from './allocation.entity.js';
import { AllocationLine } from './allocation-line.entity.js';
import { IdempotencyRecord } from './idempotency-record.entity.js';
import { IncomingStock } from './incoming-stock.entity.js';
import { IntegrityAudit, IntegrityFinding } from './integrity.entity.js';
import { FeedState } from './feed-state.entity.js';
import { Item } from './item.entity.js';
import { OutboxEvent } from './outbox-event.entity.js';
import { StockLevel } from './stock-level.entity.js';
import { StockMovement } from './stock-movement.entity.js';
import { Warehouse } from './warehouse.entity.js';

export const entities = [Warehouse, Item, OutboxEvent, FeedState, StockLevel, StockMovement, Allocation, AllocationLine, IdempotencyRecord, IntegrityAudit, IntegrityFinding, IncomingStock] as const;
export { Allocation, AllocationLine, FeedState, IdempotencyRecord, IncomingStock, IntegrityAudit, IntegrityFinding, Item, OutboxEvent, StockLevel, StockMovement, Warehouse };
