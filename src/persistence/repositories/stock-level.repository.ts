import { EntityRepository } from '@mikro-orm/postgresql';
import type { StockLevelState } from '../../inventory/stock-level.js';
import type { StockLevel } from '../entities/stock-level.entity.js';
import { ON_REPLICA } from '../reporting.js';
import { dateOrNull, num, PREPARED, query } from '../sql.js';

export interface LevelKey {
  readonly sku: string;
  readonly warehouseCode: string;
}

/** A locked level with what the allocation strategy needs to know about its warehouse. */
export interface LockedLevel extends StockLevelState {
  readonly priority: number;
  readonly active: boolean;
}

interface LevelRow {
  sku: string;
  warehouse_code: string;
  on_hand: string;
  allocated: string;
  damaged: string;
  quality_control: string;
  safety_stock: string;
  version: string;
  updated_at: string | null;
}

interface LockedRow extends LevelRow {
  priority: number;
  active: boolean;
}

const COLUMNS = `s.sku, s.warehouse_code, s.on_hand, s.allocated, s.damaged, s.quality_control, s.safety_stock, s.version, s.updated_at`;

/** available as SQL: the expression `stock_level_available_idx` is built on. */
const AVAILABLE = '(s.on_hand - s.allocated - s.damaged - s.quality_control - s.safety_stock)';

export const toLevel = (r: LevelRow): StockLevelState => ({
  sku: r.sku,
  warehouseCode: r.warehouse_code,
  onHand: num(r.on_hand),
  allocated: num(r.allocated),
  damaged: num(r.damaged),
  qualityControl: num(r.quality_control),
  safetyStock: num(r.safety_stock),
  version: num(r.version),
  updateTime: dateOrNull(r.updated_at),
});

const toLocked = (r: LockedRow): LockedLevel => ({ ...toLevel(r), priority: r.priority, active: r.active });

/** What one key of a batch read found: the level (null if never created), or which half is unknown. */
export type BatchLookup =
  | { readonly kind: 'level'; readonly level: StockLevelState | null }
  | { readonly kind: 'unknownSku' }
  | { readonly kind: 'unknownWarehouse' };

export interface LowStockFilter {
  readonly threshold: number;
  readonly warehouseCode: string | undefined;
}

/** The last row of a ListLowStock page. */
export interface LowStockCursor {
  readonly available: number;
  readonly sku: string;
  readonly warehouseCode: string;
}

const unzip = (keys: readonly LevelKey[]): [string[], string[]] => [keys.map((k) => k.sku), keys.map((k) => k.warehouseCode)];

const byKey = (a: LevelKey, b: LevelKey): number =>
  a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : a.warehouseCode < b.warehouseCode ? -1 : a.warehouseCode > b.warehouseCode ? 1 : 0;

/**
 * Stock level queries. Every lock is taken by ONE statement ordered by the primary key
 * (sku, warehouse_code): concurrent transactions touching overlapping levels queue up in
 * the same order and cannot deadlock. The plain reads (`find*`) take no lock and are what
 * cached and batched reads build on.
 */
export class StockLevelRepository extends EntityRepository<StockLevel> {
  /** Creates the missing levels (zero, version 0); concurrent creators do not fail. */
  async ensure(keys: readonly LevelKey[], now: Date): Promise<void> {
    if (keys.length === 0) return;
    const [skus, codes] = unzip([...keys].sort(byKey));
    await query(
      this.getEntityManager(),
      `insert into stock_level (sku, warehouse_code, created_at)
       select k.sku, k.code, ? from unnest(?::text[], ?::text[]) as k(sku, code)
       on conflict do nothing`,
      [now, skus, codes],
    );
  }

  /** Locks the given levels (those that exist) for the rest of the transaction. */
  async lock(keys: readonly LevelKey[]): Promise<Map<string, LockedLevel>> {
    return this.lockWhere(`(s.sku, s.warehouse_code) in (select * from unnest(?::text[], ?::text[]))`, unzip(keys));
  }

  /**
   * Locks, in one statement, every level of `skus` (in any warehouse) plus the given
   * levels: what AllocateStock needs to place its lines.
   */
  async lockForAllocation(skus: readonly string[], keys: readonly LevelKey[]): Promise<Map<string, LockedLevel>> {
    const [ks, kc] = unzip(keys);
    const allSkus = [...new Set([...skus, ...ks])];
    // The first condition lets PostgreSQL use the primary key; without it the OR makes a sequential scan.
    return this.lockWhere(
      `s.sku = any(?::text[]) and (s.sku = any(?::text[]) or (s.sku, s.warehouse_code) in (select * from unnest(?::text[], ?::text[])))`,
      [allSkus, skus, ks, kc],
    );
  }

  private async lockWhere(condition: string, params: unknown[]): Promise<Map<string, LockedLevel>> {
    const rows = await query<LockedRow>(
      this.getEntityManager(),
      `select ${COLUMNS}, w.priority, w.active
         from stock_level s join warehouse w on w.code = s.warehouse_code
        where ${condition}
        order by s.sku, s.warehouse_code
        for update of s`,
      params,
      PREPARED,
    );
    return new Map(rows.map((r) => [`${r.sku}#${r.warehouse_code}`, toLocked(r)]));
  }

  /** Reads one level without locking; null if it was never created. */
  async findLevel(sku: string, warehouseCode: string): Promise<StockLevelState | null> {
    const rows = await query<LevelRow>(
      this.getEntityManager(),
      `select ${COLUMNS} from stock_level s where s.sku = ? and s.warehouse_code = ?`,
      [sku, warehouseCode],
      PREPARED,
    );
    return rows[0] === undefined ? null : toLevel(rows[0]);
  }

  /** Reads many levels without locking, keyed by `sku#warehouse`; absent keys were never created. */
  async findLevels(keys: readonly LevelKey[]): Promise<Map<string, StockLevelState>> {
    if (keys.length === 0) return new Map();
    const rows = await query<LevelRow>(
      this.getEntityManager(),
      `select ${COLUMNS} from stock_level s where (s.sku, s.warehouse_code) in (select * from unnest(?::text[], ?::text[]))`,
      unzip(keys),
      PREPARED,
    );
    return new Map(rows.map((r) => [`${r.sku}#${r.warehouse_code}`, toLevel(r)]));
  }

  /**
   * BatchGetStockLevels' misses in ONE statement: each key joined with its item, its
   * warehouse and (left) its level, so the answer also says which keys name an unknown
   * sku or warehouse. Keyed by `sku#warehouse`.
   */
  async findForBatch(keys: readonly LevelKey[]): Promise<Map<string, BatchLookup>> {
    if (keys.length === 0) return new Map();
    const rows = await query<{ k_sku: string; k_code: string; item_found: boolean; warehouse_found: boolean } & Partial<LevelRow>>(
      this.getEntityManager(),
      `select k.sku as k_sku, k.code as k_code, i.sku is not null as item_found, w.code is not null as warehouse_found, ${COLUMNS}
         from unnest(?::text[], ?::text[]) as k(sku, code)
         left join item i on i.sku = k.sku
         left join warehouse w on w.code = k.code
         left join stock_level s on s.sku = k.sku and s.warehouse_code = k.code`,
      unzip(keys),
    );
    return new Map(
      rows.map((r): [string, BatchLookup] => [
        `${r.k_sku}#${r.k_code}`,
        !r.item_found
          ? { kind: 'unknownSku' }
          : !r.warehouse_found
            ? { kind: 'unknownWarehouse' }
            : { kind: 'level', level: r.sku === null || r.sku === undefined ? null : toLevel(r as LevelRow) },
      ]),
    );
  }

  /**
   * ListLowStock: levels that ever had stock with available (on_hand - allocated -
   * unavailable) at or
   * below the threshold, lowest available first, keyset-paginated on (available, sku,
   * warehouse_code) along `stock_level_available_idx`. A reporting query: on a read
   * replica when one is configured.
   */
  async findLow(filter: LowStockFilter, after: LowStockCursor | undefined, limit: number): Promise<StockLevelState[]> {
    const where = ['s.version > 0', `${AVAILABLE} <= ?`];
    const params: unknown[] = [filter.threshold];
    if (filter.warehouseCode !== undefined) {
      where.push('s.warehouse_code = ?');
      params.push(filter.warehouseCode);
    }
    if (after !== undefined) {
      where.push(`(${AVAILABLE}, s.sku, s.warehouse_code) > (?::bigint, ?, ?)`);
      params.push(after.available, after.sku, after.warehouseCode);
    }
    params.push(limit);
    const rows = await query<LevelRow>(
      this.getEntityManager(),
      `select ${COLUMNS} from stock_level s
        where ${where.join(' and ')}
        order by ${AVAILABLE}, s.sku, s.warehouse_code
        limit ?`,
      params,
      ON_REPLICA,
    );
    return rows.map(toLevel);
  }

  /** Every level of one sku that ever changed, by warehouse code, with the warehouse's active flag. */
  async findBySku(sku: string): Promise<Array<StockLevelState & { active: boolean }>> {
    const rows = await query<LevelRow & { active: boolean }>(
      this.getEntityManager(),
      `select ${COLUMNS}, w.active from stock_level s join warehouse w on w.code = s.warehouse_code
        where s.sku = ? and s.version > 0 order by s.warehouse_code`,
      [sku],
    );
    return rows.map((r) => ({ ...toLevel(r), active: r.active }));
  }

  /** Which of these skus and warehouse codes exist (for NOT_FOUND after a miss). */
  async existing(skus: readonly string[], codes: readonly string[]): Promise<{ skus: Set<string>; codes: Set<string> }> {
    const rows = await query<{ skus: string[]; codes: string[] }>(
      this.getEntityManager(),
      `select array(select sku from item where sku = any(?::text[])) as skus,
              array(select code from warehouse where code = any(?::text[])) as codes`,
      [skus, codes],
    );
    return { skus: new Set(rows[0]?.skus ?? []), codes: new Set(rows[0]?.codes ?? []) };
  }
}
