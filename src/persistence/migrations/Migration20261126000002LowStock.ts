import { Migration } from '@mikro-orm/migrations';

/**
 * ListLowStock reads levels in (available, sku, warehouse_code) order, available being
 * on_hand - allocated, over the levels that ever had stock. This index serves that order
 * and its keyset pages directly, and with a warehouse filter it is scanned in the same
 * order with the warehouse as a filter. The price: an update that changes on_hand or
 * allocated can no longer be a HOT update (README "Read path").
 */
export class Migration20261126000002LowStock extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create index "stock_level_available_idx" on "stock_level" (("on_hand" - "allocated"), "sku", "warehouse_code") where "version" > 0;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists "stock_level_available_idx";`);
  }
}
