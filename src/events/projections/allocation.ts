import { allHeld, byLine, holds, settle, unsettled, type HeldLine, type HoldStatus, type LineUnits, type Settlement } from '../../inventory/allocation/holds.js';
import { eventOfKind } from '../streams.js';
import { streamIds, type AllocationLineData, type AllocationStatusData, type EventEnvelope } from '../types.js';
import { mustBeFirst, mustExist, ReplayError, reviveObject, stamp, type Projection, type Versioned } from './projection.js';

export type AllocationStatusName = HoldStatus;

/** A line of an allocation with its settled units (held = quantity - the three). */
export type AllocationLineReplay = HeldLine;

/** An allocation as its `allocation#<id>` stream tells it. */
export interface AllocationReplay extends Versioned {
  allocationId: string;
  status: AllocationStatusName;
  lines: AllocationLineReplay[];
  /** ISO time, or null for no expiry. */
  expireTime: string | null;
  /** allocation.request_hash; null when the event predates carrying it. */
  requestHash: string | null;
  /** allocation.owner: the actor of AllocationCreated (`unknown` for events from before actors). */
  owner: string;
}

/** Lines in (sku, warehouse code) order, as AllocateStock places them: comparisons ignore order. */
export const sortLines = <L extends { sku: string; warehouseCode: string }>(lines: readonly L[]): L[] => [...lines].sort(byLine);

const sameUnits = (a: readonly LineUnits[], b: readonly LineUnits[]): boolean =>
  JSON.stringify(sortLines(a).map((l) => [l.sku, l.warehouseCode, l.quantity])) === JSON.stringify(sortLines(b).map((l) => [l.sku, l.warehouseCode, l.quantity]));

/**
 * Settles units of a holding allocation as the use cases do (inventory/allocation/holds.ts);
 * `whole` events settle everything still held, and the units and status an event states
 * must be what the rules give.
 */
function settleBy(
  state: AllocationReplay | undefined,
  e: EventEnvelope,
  how: Settlement,
  data: { lines?: AllocationLineData[]; status?: AllocationStatusData },
  whole: boolean,
): AllocationReplay {
  const s = mustExist(state, e);
  if (!holds(s.status)) throw new ReplayError(e.streamId, `${e.type} at version ${e.version} but the allocation is ${s.status}`);
  const held = allHeld(s.lines);
  if (whole && data.lines !== undefined && !sameUnits(data.lines, held)) {
    throw new ReplayError(e.streamId, `${e.type} at version ${e.version} settles ${JSON.stringify(data.lines)}, but the allocation holds ${JSON.stringify(held)}`);
  }
  const result = settle(s.lines, how, whole ? held : (data.lines ?? []));
  if (!result.ok) {
    throw new ReplayError(e.streamId, `${e.type} at version ${e.version}: line ${JSON.stringify(data.lines?.[result.index])} is not held (held ${result.held ?? 'none'})`);
  }
  if (data.status !== undefined && data.status !== result.status) {
    throw new ReplayError(e.streamId, `${e.type} at version ${e.version} says status ${data.status}, but its units leave it ${result.status}`);
  }
  return { ...s, status: result.status, lines: result.lines, ...stamp(s, e) };
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
          lines: sortLines(ev.data.lines.map(unsettled)),
          expireTime: ev.data.expireTime,
          requestHash: ev.data.requestHash ?? null,
          owner: e.actor ?? 'unknown',
          ...stamp(state, e),
        };
      case 'AllocationReleased':
        return settleBy(state, e, 'RELEASE', ev.data, true);
      case 'AllocationFulfilled':
        return settleBy(state, e, 'FULFIL', ev.data, true);
      case 'AllocationExpired':
        return settleBy(state, e, 'EXPIRE', ev.data, true);
      case 'AllocationLinesReleased':
        return settleBy(state, e, 'RELEASE', ev.data, false);
      case 'AllocationLinesFulfilled':
        return settleBy(state, e, 'FULFIL', ev.data, false);
      case 'AllocationExtended': {
        const s = mustExist(state, e);
        if (!holds(s.status)) throw new ReplayError(e.streamId, `${e.type} at version ${e.version} but the allocation is ${s.status}`);
        return { ...s, expireTime: ev.data.expireTime, ...stamp(s, e) };
      }
      default: {
        const never: never = ev;
        throw new ReplayError(e.streamId, `unknown event ${JSON.stringify(never)}`);
      }
    }
  },
  streamIdOf: (s) => streamIds.allocation(s.allocationId),
  revive: (json, streamId) => {
    const s = reviveObject<AllocationReplay>(json, streamId, ['allocationId', 'status', 'lines', 'expireTime']);
    // Snapshots taken before partial fulfilment: a closed allocation settled every unit by its status.
    const settled = (l: Partial<HeldLine> & LineUnits): HeldLine => {
      if (l.fulfilled !== undefined) return l as HeldLine;
      const all = (status: AllocationStatusName) => (s.status === status ? l.quantity : 0);
      return { ...unsettled(l), fulfilled: all('FULFILLED'), released: all('RELEASED'), expired: all('EXPIRED') };
    };
    return { ...s, lines: s.lines.map(settled), requestHash: s.requestHash ?? null, owner: s.owner ?? 'unknown' };
  },
};
