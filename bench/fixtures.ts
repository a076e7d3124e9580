import type { GetItemResponse, GetWarehouseResponse } from '../src/gen/inventory/v1/inventory_service.js';

/** What the benchmark seeds in the service, and what the echo server answers. */
export const ITEM = { sku: 'BENCH-1', name: 'Benchmark widget', description: 'A thing that is read very often.' };
export const WAREHOUSE = { code: 'BENCH-W1', name: 'Benchmark warehouse', region: 'eu-central', priority: 10 };

const when = new Date('2026-01-01T00:00:00Z');
export const RESPONSES = {
  getItem: { item: { ...ITEM, version: 1n, createTime: when, updateTime: when } } satisfies GetItemResponse,
  getWarehouse: {
    warehouse: { ...WAREHOUSE, active: true, version: 1n, createTime: when, updateTime: when },
  } satisfies GetWarehouseResponse,
};
