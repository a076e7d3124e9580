import { Item } from './item.entity.js';
import { OutboxEvent } from './outbox-event.entity.js';
import { Warehouse } from './warehouse.entity.js';

export const entities = [Warehouse, Item, OutboxEvent] as const;
export { Item, OutboxEvent, Warehouse };
