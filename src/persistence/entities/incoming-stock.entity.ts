import { BigIntType, Check, Entity, Enum, Index, ManyToOne, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { Item } from './item.entity.js';
import { Warehouse } from './warehouse.entity.js';

export const INCOMING_STATUSES = ['OPEN', 'RECEIVED', 'CANCELLED'] as const;
export type IncomingStatus = (typeof INCOMING_STATUSES)[number];

/**
 * Units expected at a warehouse (a purchase order line, an inbound transfer), by the
 * caller's id. `received` grows with each receipt against it (which also adds to the
 * level's on_hand); the record is RECEIVED once all `quantity` units came, CANCELLED when
 * the rest will not come. Incoming units are never allocatable.
 */
@Entity({ tableName: 'incoming_stock' })
@Check({ name: 'incoming_stock_quantity_check', expression: 'quantity > 0' })
@Check({ name: 'incoming_stock_received_check', expression: 'received >= 0 and received <= quantity' })
// GetAvailability's open incoming per sku, by date; ListIncomingStock's orders.
@Index({ name: 'incoming_stock_sku_time_idx', properties: ['sku', 'expectedTime', 'incomingId'] })
@Index({ name: 'incoming_stock_warehouse_time_idx', properties: ['warehouseCode', 'expectedTime', 'incomingId'] })
export class IncomingStock {
  [OptionalProps]?: 'received' | 'status' | 'reference' | 'version';

  @PrimaryKey({ type: 'string', length: 128 })
  incomingId: string;

  @ManyToOne({ entity: () => Item, mapToPk: true, fieldName: 'sku' })
  sku: string;

  @ManyToOne({ entity: () => Warehouse, mapToPk: true, fieldName: 'warehouse_code' })
  warehouseCode: string;

  @Property({ type: new BigIntType('number') })
  quantity: number;

  @Property({ type: new BigIntType('number'), default: 0 })
  received: number = 0;

  @Enum({ items: [...INCOMING_STATUSES], type: 'string', length: 16, default: 'OPEN' })
  status: IncomingStatus = 'OPEN';

  @Property({ type: 'datetime', columnType: 'timestamptz' })
  expectedTime: Date;

  @Property({ type: 'string', length: 200, default: '' })
  reference: string = '';

  /** Equals the version of the `incoming#SKU#ID` event stream. */
  @Property({ type: 'integer', default: 1 })
  version: number = 1;

  @Property({ type: 'datetime', columnType: 'timestamptz' })
  createdAt: Date;

  @Property({ type: 'datetime', columnType: 'timestamptz' })
  updatedAt: Date;

  constructor(incomingId: string, sku: string, warehouseCode: string, quantity: number, expectedTime: Date, now: Date) {
    this.incomingId = incomingId;
    this.sku = sku;
    this.warehouseCode = warehouseCode;
    this.quantity = quantity;
    this.expectedTime = expectedTime;
    this.createdAt = now;
    this.updatedAt = now;
  }
}
