import { FeedState } from './feed-state.entity.js';
import { Item } from './item.entity.js';
import { OutboxEvent } from './outbox-event.entity.js';
import { Warehouse } from './warehouse.entity.js';

export const entities = [Warehouse, Item, OutboxEvent, FeedState] as const;
export { FeedState, Item, OutboxEvent, Warehouse };
