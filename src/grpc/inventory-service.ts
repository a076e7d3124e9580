import type { InventoryServiceServer } from '../gen/inventory/v1/inventory_service.js';
import type { AllocationService } from '../inventory/allocations.js';
import type { BatchLevelResult, CachedReads } from '../inventory/cached-reads.js';
import type { ItemService } from '../inventory/items.js';
import type { StockService } from '../inventory/stock.js';
import type { WarehouseService } from '../inventory/warehouses.js';
import type { BatchGetStockLevelsResult } from '../gen/inventory/v1/inventory_service.js';
import { unary, type EdgeDeps } from './call.js';
import { toRpcStatus } from './errors.js';
import {
  optionalInt,
  toAllocationMessage,
  toItemMessage,
  toMovementMessage,
  toStockLevelMessage,
  toWarehouseMessage,
} from './mappers.js';
import { stockStateHandlers, type StockStateUseCases } from './stock-state-handlers.js';
import { toIncomingMessage } from './stock-state-mappers.js';

export interface InventoryUseCases extends StockStateUseCases {
  readonly warehouses: WarehouseService;
  readonly items: ItemService;
  readonly stock: StockService;
  readonly allocations: AllocationService;
  /** GetItem, GetWarehouse, GetStockLevel, BatchGetStockLevels and GetAvailability through the read cache. */
  readonly reads: CachedReads;
}

const toBatchResult = (r: BatchLevelResult): BatchGetStockLevelsResult => ({
  key: { sku: r.key.sku, warehouseCode: r.key.warehouseCode },
  result:
    r.result.kind === 'level'
      ? { $case: 'stockLevel', value: toStockLevelMessage(r.result.level) }
      : { $case: 'error', value: toRpcStatus(r.result.error) },
});

/** inventory.v1.InventoryService: decode, delegate to the use case, encode. */
export function inventoryServiceHandlers(deps: EdgeDeps, uc: InventoryUseCases): InventoryServiceServer {
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

    receiveStock: unary(deps, 'ReceiveStock', async (req, s) => ({
      stockLevel: toStockLevelMessage(await uc.stock.receive(s.em, s.ctx, req)),
    })),
    adjustStock: unary(deps, 'AdjustStock', async (req, s) => {
      const change =
        req.change === undefined
          ? undefined
          : req.change.$case === 'delta'
            ? { kind: 'delta' as const, value: req.change.value }
            : { kind: 'newOnHand' as const, value: req.change.value };
      const level = await uc.stock.adjust(s.em, s.ctx, { ...req, change, expectedVersion: optionalInt(req.expectedVersion) });
      return { stockLevel: toStockLevelMessage(level) };
    }),
    transferStock: unary(deps, 'TransferStock', async (req, s) => {
      const { from, to } = await uc.stock.transfer(s.em, s.ctx, req);
      return { from: toStockLevelMessage(from), to: toStockLevelMessage(to) };
    }),
    getStockLevel: unary(deps, 'GetStockLevel', async (req, s) => ({
      stockLevel: toStockLevelMessage(await uc.reads.stockLevel(() => s.em, req.sku, req.warehouseCode, req.consistent)),
    })),
    batchGetStockLevels: unary(deps, 'BatchGetStockLevels', async (req, s) => {
      const keys = req.keys.map((k) => ({ sku: k.sku, warehouseCode: k.warehouseCode }));
      const results = await uc.reads.stockLevels(() => s.em, keys, req.consistent);
      return { results: results.map(toBatchResult) };
    }),
    getAvailability: unary(deps, 'GetAvailability', async (req, s) => {
      const a = await uc.reads.availability(() => s.em, req.sku, req.consistent);
      return {
        sku: a.sku,
        onHand: BigInt(a.onHand),
        allocated: BigInt(a.allocated),
        available: BigInt(a.available),
        allocatable: BigInt(a.allocatable),
        levels: a.levels.map(toStockLevelMessage),
        damaged: BigInt(a.damaged),
        qualityControl: BigInt(a.qualityControl),
        safetyStock: BigInt(a.safetyStock),
        unavailable: BigInt(a.unavailable),
        incoming: BigInt(a.incoming),
        incomingStock: a.incomingStock.map(toIncomingMessage),
      };
    }),
    allocateStock: unary(deps, 'AllocateStock', async (req, s) => ({
      allocation: toAllocationMessage(await uc.allocations.allocate(s.em, s.ctx, req)),
    })),
    getAllocation: unary(deps, 'GetAllocation', async (req, s) => ({
      allocation: toAllocationMessage(await uc.allocations.get(s.em, req.allocationId)),
    })),
    releaseAllocation: unary(deps, 'ReleaseAllocation', async (req, s) => ({
      allocation: toAllocationMessage(await uc.allocations.release(s.em, s.ctx, req.allocationId)),
    })),
    fulfillAllocation: unary(deps, 'FulfillAllocation', async (req, s) => ({
      allocation: toAllocationMessage(await uc.allocations.fulfill(s.em, s.ctx, req.allocationId)),
    })),
    listStockMovements: unary(deps, 'ListStockMovements', async (req, s) => {
      const page = await uc.stock.movements(s.em, req);
      return { movements: page.movements.map(toMovementMessage), nextPageToken: page.nextPageToken };
    }),
    listLowStock: unary(deps, 'ListLowStock', async (req, s) => {
      const page = await uc.stock.lowStock(s.em, req);
      return { levels: page.levels.map(toStockLevelMessage), nextPageToken: page.nextPageToken };
    }),
    ...stockStateHandlers(deps, uc),
  };
}
