import type { EntityManager } from '@mikro-orm/postgresql';
import type { ReadCache } from '../cache/read-cache.js';
import { availabilityKey } from '../cache/keys.js';
import { streamIds } from '../events/types.js';
import type { Item } from '../persistence/entities/item.entity.js';
import type { Warehouse } from '../persistence/entities/warehouse.entity.js';
import { StockLevel } from '../persistence/entities/stock-level.entity.js';
import type { LevelKey } from '../persistence/repositories/stock-level.repository.js';
import { DomainError, invalid, notFoundField } from './errors.js';
import type { ItemService } from './items.js';
import { emptyLevel, levelKey, type StockLevelState } from './stock-level.js';
import type { Availability, StockService } from './stock.js';
import * as v from './validation.js';
import type { WarehouseService } from './warehouses.js';

/** BatchGetStockLevels takes 1 to this many keys. */
export const MAX_BATCH_KEYS = 1000;

/** One answer of a batch read, in request order. */
export interface BatchLevelResult {
  readonly key: LevelKey;
  readonly result: { readonly kind: 'level'; readonly level: StockLevelState } | { readonly kind: 'error'; readonly error: DomainError };
}

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

const frozenLevel = (l: StockLevelState): StockLevelState => Object.freeze({ ...l });

const frozenAvailability = (a: Availability): Readonly<Availability> =>
  Object.freeze({
    ...a,
    levels: Object.freeze(a.levels.map(frozenLevel)) as StockLevelState[],
    incomingStock: Object.freeze(a.incomingStock.map((r) => Object.freeze({ ...r }))) as Availability['incomingStock'],
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
    private readonly stock: StockService,
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

  /**
   * A level that never had stock (zeros, version 0) is cached too: its first receipt
   * records an event on the same `stock#` stream and so invalidates it.
   */
  stockLevel(em: () => EntityManager, sku: string, warehouseCode: string, consistent = false): Promise<StockLevelState> {
    v.sku('sku', sku);
    v.warehouseCode('warehouse_code', warehouseCode);
    return this.cache.read(
      streamIds.stock(sku, warehouseCode),
      async () => frozenLevel(await this.stock.getLevel(em(), sku, warehouseCode)),
      consistent,
    );
  }

  /**
   * Cached under `availability#SKU`: every stock change and every incoming stock change of
   * the sku invalidates it, and so does every warehouse change (`allocatable` counts only
   * active warehouses).
   */
  availability(em: () => EntityManager, sku: string, consistent = false): Promise<Readonly<Availability>> {
    v.sku('sku', sku);
    return this.cache.read(availabilityKey(sku), async () => frozenAvailability(await this.stock.availability(em(), sku)), consistent);
  }

  /**
   * BatchGetStockLevels: a malformed key gets its own INVALID_ARGUMENT naming
   * `keys[i].sku` or `keys[i].warehouse_code`, an unknown sku or warehouse its own
   * NOT_FOUND; the rest come from the cache (the same entries GetStockLevel uses), and
   * every miss from ONE statement.
   */
  async stockLevels(em: () => EntityManager, keys: readonly LevelKey[], consistent = false): Promise<BatchLevelResult[]> {
    if (keys.length === 0 || keys.length > MAX_BATCH_KEYS) {
      throw invalid('keys', `must hold 1 to ${MAX_BATCH_KEYS} keys; got ${keys.length}`);
    }
    const checked = keys.map((key, i): { key: LevelKey; error: DomainError } | { key: LevelKey; cacheKey: string } => {
      try {
        v.sku(`keys[${i}].sku`, key.sku);
        v.warehouseCode(`keys[${i}].warehouse_code`, key.warehouseCode);
      } catch (err) {
        if (err instanceof DomainError) return { key, error: err };
        throw err;
      }
      return { key, cacheKey: streamIds.stock(key.sku, key.warehouseCode) };
    });
    const levelKeys = new Map<string, LevelKey>();
    for (const c of checked) if ('cacheKey' in c) levelKeys.set(c.cacheKey, c.key);
    const unknown = new Map<string, 'sku' | 'warehouse'>();
    const found =
      levelKeys.size === 0
        ? new Map<string, StockLevelState | undefined>()
        : await this.cache.readMany<StockLevelState>(
            [...levelKeys.keys()],
            async (missing) => {
              const wanted = missing.map((k) => levelKeys.get(k)!);
              const rows = await em().getRepository(StockLevel).findForBatch(wanted);
              const loaded = new Map<string, StockLevelState>();
              for (const [cacheKey, { sku, warehouseCode }] of missing.map((k) => [k, levelKeys.get(k)!] as const)) {
                const row = rows.get(levelKey(sku, warehouseCode));
                if (row === undefined) throw new Error(`batch read lost key ${cacheKey}`);
                switch (row.kind) {
                  case 'level':
                    loaded.set(cacheKey, frozenLevel(row.level ?? emptyLevel(sku, warehouseCode)));
                    break;
                  case 'unknownSku':
                    unknown.set(cacheKey, 'sku');
                    break;
                  case 'unknownWarehouse':
                    unknown.set(cacheKey, 'warehouse');
                    break;
                  default: {
                    const never: never = row;
                    throw new Error(`unknown batch lookup ${JSON.stringify(never)}`);
                  }
                }
              }
              return loaded;
            },
            consistent,
          );
    return checked.map((c, i): BatchLevelResult => {
      if ('error' in c) return { key: c.key, result: { kind: 'error', error: c.error } };
      const level = found.get(c.cacheKey);
      if (level !== undefined) return { key: c.key, result: { kind: 'level', level } };
      const error =
        unknown.get(c.cacheKey) === 'warehouse'
          ? notFoundField(`keys[${i}].warehouse_code`, 'warehouse', c.key.warehouseCode)
          : notFoundField(`keys[${i}].sku`, 'item', c.key.sku);
      return { key: c.key, result: { kind: 'error', error } };
    });
  }
}
