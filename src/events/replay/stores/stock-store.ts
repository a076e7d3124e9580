import type { StockReplay } from '../../projections/stock.js';
import type { ProjectionStore } from '../store.js';

/**
 * COORDINATOR: wire after merging issue 3 (stock levels). Until then stock streams are
 * replayed (the pure projection in src/events/projections/stock.ts checks them) but cannot
 * be compared with or written to PostgreSQL, and verify/rebuild report them as such.
 *
 * To wire it, replace `undefined` with a ProjectionStore<StockReplay> like
 * stores/warehouse-store.ts:
 *  - kind 'stock'; tables: the stock_level table (and stock_movement if rebuild should
 *    restore the ledger: one row per stock event, id = data.movementId; then also reset the
 *    stock_movement id sequence with setval after the insert);
 *  - load(sql, ids): parse each id with parseStreamId (stock#<sku>#<warehouse>), select
 *    sku, warehouse_code, on_hand, allocated, version, updated_at for those pairs and map to
 *    StockReplay: { sku, warehouseCode, onHand, allocated, version, createdAt, updatedAt,
 *    lastMovementId } (createdAt = the level's created_at, or drop createdAt from the
 *    comparison if the table has none; lastMovementId = max(stock_movement.id) of the level);
 *  - unreplayed(sql, afterStreamId, limit): levels with version > 0 whose 'stock#' || sku || '#' ||
 *    warehouse_code is not in replay_stream;
 *  - insert(sql, states): unnest insert, as in warehouse-store.ts (items and warehouses are
 *    rebuilt first, so foreign keys hold).
 */
export const stockStore: ProjectionStore<StockReplay> | undefined = undefined;
