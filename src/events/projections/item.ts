import { domainEventOf } from '../streams.js';
import { streamIds, type EventEnvelope, type ItemState } from '../types.js';
import { mustBeFirst, ReplayError, reviveObject, stamp, type Projection, type Versioned } from './projection.js';

export type ItemReplay = ItemState & Versioned;

export const itemProjection: Projection<ItemReplay> = {
  kind: 'item',
  apply(state, e: EventEnvelope) {
    const ev = domainEventOf(e);
    switch (ev.type) {
      case 'ItemCreated':
        mustBeFirst(state, e);
        return { ...ev.data, ...stamp(state, e) };
      case 'WarehouseCreated':
      case 'WarehouseUpdated':
      case 'StockReceived':
      case 'StockAdjusted':
      case 'StockTransferredOut':
      case 'StockTransferredIn':
      case 'StockAllocated':
      case 'StockReleased':
      case 'StockFulfilled':
      case 'AllocationCreated':
      case 'AllocationReleased':
      case 'AllocationFulfilled':
      case 'AllocationExpired':
        throw new ReplayError(e.streamId, `${e.type} does not belong to an item stream`);
      default: {
        const never: never = ev;
        throw new ReplayError(e.streamId, `unknown event ${JSON.stringify(never)}`);
      }
    }
  },
  streamIdOf: (s) => streamIds.item(s.sku),
  revive: (json, streamId) => reviveObject<ItemReplay>(json, streamId, ['sku', 'name', 'description']),
};
