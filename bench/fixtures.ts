import type {
  BatchGetStockLevelsResponse,
  GetItemResponse,
  GetStockLevelResponse,
  GetWarehouseResponse,
} from '../src/gen/inventory/v1/inventory_service.js';

/** What the benchmark seeds in the service, and what the echo server answers. */
export const ITEM = { sku: 'BENCH-1', name: 'Benchmark widget', description: 'A thing that is read very often.' };
export const WAREHOUSE = { code: 'BENCH-W1', name: 'Benchmark warehouse', region: 'eu-central', priority: 10 };

/** Units received of every benchmark sku in WAREHOUSE. */
export const ON_HAND = 1000n;
/** BatchGetStockLevels reads this many keys: ITEM and BATCH_SKUS-1 more skus, all in WAREHOUSE. */
export const BATCH_SIZE = 100;
export const BATCH_SKUS = [ITEM.sku, ...Array.from({ length: BATCH_SIZE - 1 }, (_, i) => `BENCH-${i + 2}`)];

const when = new Date('2026-01-01T00:00:00Z');
const level = (sku: string) => ({
  sku,
  warehouseCode: WAREHOUSE.code,
  onHand: ON_HAND,
  allocated: 0n,
  available: ON_HAND,
  damaged: 0n,
  qualityControl: 0n,
  safetyStock: 0n,
  unavailable: 0n,
  version: 1n,
  updateTime: when,
});
export const RESPONSES = {
  getItem: { item: { ...ITEM, version: 1n, createTime: when, updateTime: when } } satisfies GetItemResponse,
  getWarehouse: {
    warehouse: { ...WAREHOUSE, active: true, version: 1n, createTime: when, updateTime: when },
  } satisfies GetWarehouseResponse,
  getStockLevel: { stockLevel: level(ITEM.sku) } satisfies GetStockLevelResponse,
  batchGetStockLevels: {
    results: BATCH_SKUS.map((sku) => ({
      key: { sku, warehouseCode: WAREHOUSE.code },
      result: { $case: 'stockLevel' as const, value: level(sku) },
    })),
  } satisfies BatchGetStockLevelsResponse,
};
