import type { EntityManager } from '@mikro-orm/postgresql';
import type { ReadCache } from '../cache/read-cache.js';
import { streamIds } from '../events/types.js';
import type { Item } from '../persistence/entities/item.entity.js';
import type { Warehouse } from '../persistence/entities/warehouse.entity.js';
import type { ItemService } from './items.js';
import * as v from './validation.js';
import type { WarehouseService } from './warehouses.js';

/** What the cache holds: frozen copies, detached from any EntityManager. */
export type ItemView = Readonly<Pick<Item, 'sku' | 'name' | 'description' | 'version' | 'createdAt' | 'updatedAt'>>;
export type WarehouseView = Readonly<
  Pick<Warehouse, 'code' | 'name' | 'region' | 'priority' | 'active' | 'version' | 'createdAt' | 'updatedAt'>
>;

export const itemView = (i: Item): ItemView =>
  Object.freeze({
    sku: i.sku,
    name: i.name,
    description: i.description,
    version: i.version,
    createdAt: i.createdAt,
    updatedAt: i.updatedAt,
  });

export const warehouseView = (w: Warehouse): WarehouseView =>
  Object.freeze({
    code: w.code,
    name: w.name,
    region: w.region,
    priority: w.priority,
    active: w.active,
    version: w.version,
    createdAt: w.createdAt,
    updatedAt: w.updatedAt,
  });

/**
 * The hot single-entity reads, through the read cache. The EntityManager is asked for
 * only on a miss (`em` is a thunk), so a hit costs a map lookup. Entries are loaded from
 * the primary, never a replica: a replica may be behind the invalidation that made room
 * for the load. `consistent` skips the cache (and refreshes it).
 */
export class CachedReads {
  constructor(
    private readonly cache: ReadCache,
    private readonly items: ItemService,
    private readonly warehouses: WarehouseService,
  ) {}

  item(em: () => EntityManager, sku: string, consistent = false): Promise<ItemView> {
    v.sku('sku', sku);
    return this.cache.read(streamIds.item(sku), async () => itemView(await this.items.get(em(), sku)), consistent);
  }

  warehouse(em: () => EntityManager, code: string, consistent = false): Promise<WarehouseView> {
    v.warehouseCode('code', code);
    return this.cache.read(
      streamIds.warehouse(code),
      async () => warehouseView(await this.warehouses.get(em(), code)),
      consistent,
    );
  }
}
