import { BigIntType, Check, Entity, Index, ManyToOne, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { Allocation } from './allocation.entity.js';

/**
 * One placed line of an allocation: a quantity of one sku from one warehouse. Placed
 * lines of one allocation never repeat a (sku, warehouse): a line split across
 * warehouses becomes several rows, and parts landing in the same level are merged.
 * `quantity` never changes; partial fulfilment and release count settled units beside it.
 */
@Entity({ tableName: 'allocation_line' })
@Check({ name: 'allocation_line_quantity_check', expression: 'quantity > 0' })
// Settled units never go negative nor exceed the line: held = quantity - the three.
@Check({
  name: 'allocation_line_settled_check',
  expression: 'fulfilled_quantity >= 0 and released_quantity >= 0 and expired_quantity >= 0 and fulfilled_quantity + released_quantity + expired_quantity <= quantity',
})
// Sums of allocated units per level (reconciliation, reporting).
@Index({ name: 'allocation_line_level_idx', properties: ['sku', 'warehouseCode'] })
export class AllocationLine {
  [OptionalProps]?: 'fulfilledQuantity' | 'releasedQuantity' | 'expiredQuantity';

  @ManyToOne({ entity: () => Allocation, primary: true, mapToPk: true, fieldName: 'allocation_id', deleteRule: 'cascade' })
  allocationId: string;

  @PrimaryKey({ type: 'string', length: 64 })
  sku: string;

  @PrimaryKey({ type: 'string', length: 32 })
  warehouseCode: string;

  @Property({ type: new BigIntType('number') })
  quantity: number;

  /** Units shipped (FulfillAllocation). */
  @Property({ type: new BigIntType('number'), default: 0 })
  fulfilledQuantity: number = 0;

  /** Units given back by ReleaseAllocation. */
  @Property({ type: new BigIntType('number'), default: 0 })
  releasedQuantity: number = 0;

  /** Units given back by the expiry. */
  @Property({ type: new BigIntType('number'), default: 0 })
  expiredQuantity: number = 0;

  constructor(allocationId: string, sku: string, warehouseCode: string, quantity: number) {
    this.allocationId = allocationId;
    this.sku = sku;
    this.warehouseCode = warehouseCode;
    this.quantity = quantity;
  }
}
