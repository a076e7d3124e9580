import { eventOfKind } from '../streams.js';
import { streamIds, type EventEnvelope } from '../types.js';
import { mustBeFirst, mustExist, ReplayError, reviveObject, stamp, type Projection, type Versioned } from './projection.js';

export type IncomingStatusName = 'OPEN' | 'RECEIVED' | 'CANCELLED';

/** Incoming stock as its `incoming#<sku>#<id>` stream tells it. */
export interface IncomingReplay extends Versioned {
  incomingId: string;
  sku: string;
  warehouseCode: string;
  quantity: number;
  received: number;
  status: IncomingStatusName;
  /** ISO time. */
  expectedTime: string;
  reference: string;
}

export const incomingProjection: Projection<IncomingReplay> = {
  kind: 'incoming',
  apply(state, e) {
    const ev = eventOfKind(e, 'incoming');
    if (ev === undefined) throw new ReplayError(e.streamId, `${e.type} does not belong to an incoming stream`);
    switch (ev.type) {
      case 'IncomingStockRecorded':
        mustBeFirst(state, e);
        if (!(ev.data.quantity > 0)) throw new ReplayError(e.streamId, `version ${e.version} records ${ev.data.quantity} units`);
        return {
          incomingId: ev.data.incomingId,
          sku: ev.data.sku,
          warehouseCode: ev.data.warehouseCode,
          quantity: ev.data.quantity,
          received: 0,
          status: 'OPEN',
          expectedTime: ev.data.expectedTime,
          reference: ev.data.reference,
          ...stamp(state, e),
        };
      case 'IncomingStockReceived': {
        const s = mustExist(state, e);
        const received = s.received + ev.data.quantity;
        if (s.status !== 'OPEN' || !(ev.data.quantity > 0) || received !== ev.data.received || received > s.quantity) {
          throw new ReplayError(
            e.streamId,
            `version ${e.version} receives ${ev.data.quantity} (total ${ev.data.received}) into ${s.status} incoming stock holding ${s.received} of ${s.quantity}`,
          );
        }
        return { ...s, received, status: received === s.quantity ? 'RECEIVED' : 'OPEN', ...stamp(s, e) };
      }
      case 'IncomingStockCancelled': {
        const s = mustExist(state, e);
        if (s.status !== 'OPEN' || ev.data.cancelled !== s.quantity - s.received) {
          throw new ReplayError(e.streamId, `version ${e.version} cancels ${ev.data.cancelled} of ${s.status} incoming stock with ${s.quantity - s.received} outstanding`);
        }
        return { ...s, status: 'CANCELLED', ...stamp(s, e) };
      }
      default: {
        const never: never = ev;
        throw new ReplayError(e.streamId, `unknown event ${JSON.stringify(never)}`);
      }
    }
  },
  streamIdOf: (s) => streamIds.incoming(s.sku, s.incomingId),
  revive: (json, streamId) =>
    reviveObject<IncomingReplay>(json, streamId, ['incomingId', 'sku', 'warehouseCode', 'quantity', 'received', 'status', 'expectedTime', 'reference']),
};
