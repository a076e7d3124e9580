import type { InventoryServiceServer } from '../gen/inventory/v1/inventory_service.js';
import type { CachedReads } from '../inventory/cached-reads.js';
import type { ItemService } from '../inventory/items.js';
import type { WarehouseService } from '../inventory/warehouses.js';
import { unary, type EdgeDeps } from './call.js';
import { optionalInt, toItemMessage, toWarehouseMessage } from './mappers.js';

export interface InventoryUseCases {
  readonly warehouses: WarehouseService;
  readonly items: ItemService;
  /** GetItem and GetWarehouse through the read cache. */
  readonly reads: CachedReads;
}

// TRANSITIONAL: the stock and allocation methods land with issue 3; until then grpc-js
// answers them UNIMPLEMENTED. Remove this Omit when they are implemented.
type Pending =
  | 'receiveStock' | 'adjustStock' | 'transferStock' | 'getStockLevel' | 'batchGetStockLevels' | 'getAvailability'
  | 'allocateStock' | 'getAllocation' | 'releaseAllocation' | 'fulfillAllocation' | 'listStockMovements' | 'listLowStock';

/** inventory.v1.InventoryService: decode, delegate to the use case, encode. */
export function inventoryServiceHandlers(deps: EdgeDeps, uc: InventoryUseCases): Omit<InventoryServiceServer, Pending> {
  return {
    createWarehouse: unary(deps, 'CreateWarehouse', async (req, s) => ({
      warehouse: toWarehouseMessage(await uc.warehouses.create(s.em, s.ctx, req)),
    })),
    getWarehouse: unary(deps, 'GetWarehouse', async (req, s) => ({
      warehouse: toWarehouseMessage(await uc.reads.warehouse(() => s.em, req.code, req.consistent)),
    })),
    listWarehouses: unary(deps, 'ListWarehouses', async (req, s) => {
      const page = await uc.warehouses.list(s.em, req.pageSize, req.pageToken);
      return { warehouses: page.warehouses.map(toWarehouseMessage), nextPageToken: page.nextPageToken };
    }),
    updateWarehouse: unary(deps, 'UpdateWarehouse', async (req, s) => ({
      warehouse: toWarehouseMessage(
        await uc.warehouses.update(s.em, s.ctx, { ...req, expectedVersion: optionalInt(req.expectedVersion) }),
      ),
    })),
    createItem: unary(deps, 'CreateItem', async (req, s) => ({
      item: toItemMessage(await uc.items.create(s.em, s.ctx, req)),
    })),
    getItem: unary(deps, 'GetItem', async (req, s) => ({
      item: toItemMessage(await uc.reads.item(() => s.em, req.sku, req.consistent)),
    })),
    listItems: unary(deps, 'ListItems', async (req, s) => {
      const page = await uc.items.list(s.em, req.pageSize, req.pageToken, req.skuPrefix);
      return { items: page.items.map(toItemMessage), nextPageToken: page.nextPageToken };
    }),
  };
}
