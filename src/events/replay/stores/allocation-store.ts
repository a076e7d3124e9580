import type { AllocationReplay } from '../../projections/allocation.js';
import type { ProjectionStore } from '../store.js';

/**
 * COORDINATOR: wire after merging issue 3 (allocations). Until then allocation streams are
 * replayed (the pure projection in src/events/projections/allocation.ts checks their
 * transitions) but cannot be compared with or written to PostgreSQL, and verify/rebuild
 * report them as such.
 *
 * To wire it, replace `undefined` with a ProjectionStore<AllocationReplay> like
 * stores/warehouse-store.ts:
 *  - kind 'allocation'; tables: allocation, allocation_line;
 *  - load(sql, ids): the allocations with those ids and their lines (ordered the way the
 *    AllocationCreated event lists them) mapped to AllocationReplay: { allocationId, status
 *    ('ALLOCATED' | 'RELEASED' | 'FULFILLED' | 'EXPIRED'), lines: [{ sku, warehouseCode,
 *    quantity }], expireTime (ISO or null), version, createdAt, updatedAt };
 *  - unreplayed(sql, afterStreamId, limit): allocations whose 'allocation#' || id is not in replay_stream;
 *  - insert(sql, states): allocation rows, then allocation_line rows (stock levels are
 *    rebuilt before allocations).
 */
export const allocationStore: ProjectionStore<AllocationReplay> | undefined = undefined;
