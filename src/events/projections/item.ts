import { eventOfKind } from '../streams.js';
import { streamIds, type EventEnvelope, type ItemState } from '../types.js';
import { mustBeFirst, ReplayError, reviveObject, stamp, type Projection, type Versioned } from './projection.js';

export type ItemReplay = ItemState & Versioned;

export const itemProjection: Projection<ItemReplay> = {
  kind: 'item',
  apply(state, e: EventEnvelope) {
    const ev = eventOfKind(e, 'item');
    if (ev === undefined) throw new ReplayError(e.streamId, `${e.type} does not belong to an item stream`);
    switch (ev.type) {
      case 'ItemCreated':
        mustBeFirst(state, e);
        return { ...ev.data, ...stamp(state, e) };
      default: {
        // A one-member union does not narrow to never; its type field does.
        const unknownType: never = ev.type;
        throw new ReplayError(e.streamId, `unknown event type ${String(unknownType)}`);
      }
    }
  },
  streamIdOf: (s) => streamIds.item(s.sku),
  revive: (json, streamId) => reviveObject<ItemReplay>(json, streamId, ['sku', 'name', 'description']),
};
