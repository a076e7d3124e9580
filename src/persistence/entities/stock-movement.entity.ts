import { BigIntType, Entity, Enum, Index, PrimaryKey, Property } from '@mikro-orm/core';

export const MOVEMENT_TYPES = [
  'RECEIPT',
  'ADJUSTMENT',
  'TRANSFER_OUT',
  'TRANSFER_IN',
  'ALLOCATION',
  'RELEASE',
  'FULFILMENT',
  'EXPIRY',
  'STATE_MOVE',
] as const;
export type MovementType = (typeof MOVEMENT_TYPES)[number];

/**
 * The append-only stock ledger: one row per change of one stock level. The table is
 * partitioned by month on `created_at` (see the migration and `partitions.ts`); the
 * primary key includes the partition column because PostgreSQL requires it. MikroORM maps
 * the parent table only: its schema introspection skips the partitions.
 *
 * No foreign keys: rows are only written next to the locked stock level they describe,
 * and checking references on the busiest table would cost every insert.
 */
@Entity({ tableName: 'stock_movement' })
@Index({ name: 'stock_movement_level_time_idx', properties: ['sku', 'warehouseCode', 'createdAt', 'id'] })
@Index({ name: 'stock_movement_warehouse_time_idx', properties: ['warehouseCode', 'createdAt', 'id'] })
export class StockMovement {
  @PrimaryKey({ type: 'datetime', columnType: 'timestamptz' })
  createdAt!: Date;

  @PrimaryKey({ type: new BigIntType('number'), autoincrement: true })
  id!: number;

  @Property({ type: 'string', length: 64 })
  sku!: string;

  @Property({ type: 'string', length: 32 })
  warehouseCode!: string;

  @Enum({ items: [...MOVEMENT_TYPES], type: 'string', length: 16 })
  type!: MovementType;

  @Property({ type: new BigIntType('number') })
  onHandDelta!: number;

  @Property({ type: new BigIntType('number') })
  allocatedDelta!: number;

  /** Changes of the unavailable states (MoveStock); 0 for every other movement. */
  @Property({ type: new BigIntType('number'), default: 0 })
  damagedDelta!: number;

  @Property({ type: new BigIntType('number'), default: 0 })
  qualityControlDelta!: number;

  @Property({ type: new BigIntType('number'), default: 0 })
  safetyStockDelta!: number;

  @Property({ type: 'string', length: 200, default: '' })
  reason!: string;

  @Property({ type: 'string', length: 200, default: '' })
  reference!: string;

  @Property({ type: 'string', length: 128, nullable: true })
  allocationId!: string | null;

  @Property({ type: 'string', length: 128, nullable: true })
  idempotencyKey!: string | null;

  /** The stock level's version after this movement. */
  @Property({ type: new BigIntType('number') })
  stockVersion!: number;
}
