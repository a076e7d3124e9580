import { BigIntType, Check, Entity, Index, ManyToOne, PrimaryKey, Property } from '@mikro-orm/core';
import { Allocation } from './allocation.entity.js';

/**
 * One placed line of an allocation: a quantity of one sku from one warehouse. Placed
 * lines of one allocation never repeat a (sku, warehouse): a line split across
 * warehouses becomes several rows, and parts landing in the same level are merged.
 */
@Entity({ tableName: 'allocation_line' })
@Check({ name: 'allocation_line_quantity_check', expression: 'quantity > 0' })
// Sums of allocated units per level (reconciliation, reporting).
@Index({ name: 'allocation_line_level_idx', properties: ['sku', 'warehouseCode'] })
export class AllocationLine {
  @ManyToOne({ entity: () => Allocation, primary: true, mapToPk: true, fieldName: 'allocation_id', deleteRule: 'cascade' })
  allocationId: string;

  @PrimaryKey({ type: 'string', length: 64 })
  sku: string;

  @PrimaryKey({ type: 'string', length: 32 })
  warehouseCode: string;

  @Property({ type: new BigIntType('number') })
  quantity: number;

  constructor(allocationId: string, sku: string, warehouseCode: string, quantity: number) {
    this.allocationId = allocationId;
    this.sku = sku;
    this.warehouseCode = warehouseCode;
    this.quantity = quantity;
  }
}
