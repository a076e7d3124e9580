import { eventOfKind } from '../streams.js';
import { streamIds, type AllocationLineData, type EventEnvelope } from '../types.js';
import { mustBeFirst, mustExist, ReplayError, reviveObject, stamp, type Projection, type Versioned } from './projection.js';

export type AllocationStatusName = 'ALLOCATED' | 'RELEASED' | 'FULFILLED' | 'EXPIRED';

/** An allocation as its `allocation#<id>` stream tells it. */
export interface AllocationReplay extends Versioned {
  allocationId: string;
  status: AllocationStatusName;
  lines: AllocationLineData[];
  /** ISO time, or null for no expiry. */
  expireTime: string | null;
  /** allocation.request_hash; null when the event predates carrying it. */
  requestHash: string | null;
  /** allocation.owner: the actor of AllocationCreated (`unknown` for events from before actors). */
  owner: string;
}

/** Lines in (sku, warehouse code) order, as AllocateStock places them: comparisons ignore order. */
export const sortLines = (lines: readonly AllocationLineData[]): AllocationLineData[] =>
  [...lines].sort((a, b) =>
    a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : a.warehouseCode < b.warehouseCode ? -1 : a.warehouseCode > b.warehouseCode ? 1 : 0,
  );

function close(state: AllocationReplay | undefined, e: EventEnvelope, to: AllocationStatusName): AllocationReplay {
  const s = mustExist(state, e);
  // Only ALLOCATED holds stock; every other status is final.
  if (s.status !== 'ALLOCATED') {
    throw new ReplayError(e.streamId, `${e.type} at version ${e.version} but the allocation is ${s.status}`);
  }
  return { ...s, status: to, ...stamp(s, e) };
}

export const allocationProjection: Projection<AllocationReplay> = {
  kind: 'allocation',
  apply(state, e) {
    const ev = eventOfKind(e, 'allocation');
    if (ev === undefined) throw new ReplayError(e.streamId, `${e.type} does not belong to an allocation stream`);
    switch (ev.type) {
      case 'AllocationCreated':
        mustBeFirst(state, e);
        return {
          allocationId: ev.data.allocationId,
          status: 'ALLOCATED',
          lines: sortLines(ev.data.lines.map((l) => ({ sku: l.sku, warehouseCode: l.warehouseCode, quantity: l.quantity }))),
          expireTime: ev.data.expireTime,
          requestHash: ev.data.requestHash ?? null,
          owner: e.actor ?? 'unknown',
          ...stamp(state, e),
        };
      case 'AllocationReleased':
        return close(state, e, 'RELEASED');
      case 'AllocationFulfilled':
        return close(state, e, 'FULFILLED');
      case 'AllocationExpired':
        return close(state, e, 'EXPIRED');
      default: {
        const never: never = ev;
        throw new ReplayError(e.streamId, `unknown event ${JSON.stringify(never)}`);
      }
    }
  },
  streamIdOf: (s) => streamIds.allocation(s.allocationId),
  revive: (json, streamId) => {
    const s = reviveObject<AllocationReplay>(json, streamId, ['allocationId', 'status', 'lines', 'expireTime']);
    return { ...s, requestHash: s.requestHash ?? null, owner: s.owner ?? 'unknown' };
  },
};
