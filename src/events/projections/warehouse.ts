import { eventOfKind } from '../streams.js';
import { streamIds, type EventEnvelope, type WarehouseState } from '../types.js';
import { mustBeFirst, mustExist, ReplayError, reviveObject, stamp, type Projection, type Versioned } from './projection.js';

export type WarehouseReplay = WarehouseState & Versioned;

export const warehouseProjection: Projection<WarehouseReplay> = {
  kind: 'warehouse',
  apply(state, e: EventEnvelope) {
    const ev = eventOfKind(e, 'warehouse');
    if (ev === undefined) throw new ReplayError(e.streamId, `${e.type} does not belong to a warehouse stream`);
    switch (ev.type) {
      case 'WarehouseCreated':
        mustBeFirst(state, e);
        return { ...ev.data, ...stamp(state, e) };
      case 'WarehouseUpdated':
        return { ...mustExist(state, e), ...ev.data.changes, ...stamp(state, e) };
      default: {
        const never: never = ev;
        throw new ReplayError(e.streamId, `unknown event ${JSON.stringify(never)}`);
      }
    }
  },
  streamIdOf: (s) => streamIds.warehouse(s.code),
  revive: (json, streamId) => reviveObject<WarehouseReplay>(json, streamId, ['code', 'name', 'region', 'priority', 'active']),
};
