import { BigIntType, Check, Entity, EntityRepositoryType, Index, ManyToOne, OptionalProps, Property } from '@mikro-orm/core';
import { StockLevelRepository } from '../repositories/stock-level.repository.js';
import { Item } from './item.entity.js';
import { Warehouse } from './warehouse.entity.js';

/** Every allocated and every unavailable unit is on hand. */
export const STOCK_LEVEL_HELD_CHECK = 'allocated + damaged + quality_control + safety_stock <= on_hand';
export const STOCK_LEVEL_AVAILABLE_INDEX = `create index "stock_level_available_idx" on "stock_level" (("on_hand" - "allocated" - "damaged" - "quality_control" - "safety_stock"), "sku", "warehouse_code") where "version" > 0`;

/**
 * The stock of one item in one warehouse. `available` is derived (on_hand - allocated -
 * damaged - quality_control - safety_stock) and never stored. The CHECK constraints are the last line of defence against an
 * oversell: even a buggy write cannot commit a negative or over-allocated level.
 * Rows are created on first use (insert ... on conflict do nothing), so a level with
 * version 0 has never changed.
 */
@Entity({ tableName: 'stock_level', repository: () => StockLevelRepository })
@Check({ name: 'stock_level_on_hand_check', expression: 'on_hand >= 0' })
@Check({ name: 'stock_level_allocated_check', expression: 'allocated >= 0' })
@Check({ name: 'stock_level_allocated_le_on_hand_check', expression: 'allocated <= on_hand' })
@Check({ name: 'stock_level_damaged_check', expression: 'damaged >= 0' })
@Check({ name: 'stock_level_quality_control_check', expression: 'quality_control >= 0' })
@Check({ name: 'stock_level_safety_stock_check', expression: 'safety_stock >= 0' })
@Check({ name: 'stock_level_held_le_on_hand_check', expression: STOCK_LEVEL_HELD_CHECK })
// ListLowStock's keyset order (available, sku, warehouse_code) over levels that ever had stock.
@Index({ name: 'stock_level_available_idx', expression: STOCK_LEVEL_AVAILABLE_INDEX })
export class StockLevel {
  [EntityRepositoryType]?: StockLevelRepository;
  [OptionalProps]?: 'onHand' | 'allocated' | 'damaged' | 'qualityControl' | 'safetyStock' | 'version' | 'updatedAt';

  @ManyToOne({ entity: () => Item, primary: true, mapToPk: true, fieldName: 'sku' })
  sku: string;

  @ManyToOne({ entity: () => Warehouse, primary: true, mapToPk: true, fieldName: 'warehouse_code' })
  warehouseCode: string;

  @Property({ type: new BigIntType('number'), default: 0 })
  onHand: number = 0;

  @Property({ type: new BigIntType('number'), default: 0 })
  allocated: number = 0;

  /** Units on hand that are damaged: not allocatable until moved back (MoveStock). */
  @Property({ type: new BigIntType('number'), default: 0 })
  damaged: number = 0;

  /** Units on hand held for quality control. */
  @Property({ type: new BigIntType('number'), default: 0 })
  qualityControl: number = 0;

  /** Units on hand kept back as a floor. */
  @Property({ type: new BigIntType('number'), default: 0 })
  safetyStock: number = 0;

  /** Equals the version of the `stock#SKU#WAREHOUSE` event stream. */
  @Property({ type: new BigIntType('number'), default: 0 })
  version: number = 0;

  @Property({ type: 'datetime', columnType: 'timestamptz' })
  createdAt: Date;

  /** Null until the first change. */
  @Property({ type: 'datetime', columnType: 'timestamptz', nullable: true })
  updatedAt: Date | null = null;

  constructor(sku: string, warehouseCode: string, now: Date) {
    this.sku = sku;
    this.warehouseCode = warehouseCode;
    this.createdAt = now;
  }
}
