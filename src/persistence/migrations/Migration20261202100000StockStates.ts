import { Migration } from '@mikro-orm/migrations';

/**
 * Unavailable stock (docs/stock-and-allocations.md): units on hand that are damaged, held
 * for quality control or kept back as safety stock. Each is a column of the level with its
 * own CHECK, and one CHECK keeps allocated plus all of them within on_hand, so no write can
 * commit a level whose available (on_hand - allocated - unavailable) is negative. The
 * ledger gains a delta per state and the STATE_MOVE type; ListLowStock's index follows the
 * new meaning of available.
 *
 * Cost on a large database: the defaults are constants, so adding the columns rewrites
 * nothing, but each added CHECK (and the ledger's new type check, on every partition)
 * scans its table once while holding the lock.
 */
export class Migration20261202100000StockStates extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `alter table "stock_level" add column "damaged" bigint not null default 0, add column "quality_control" bigint not null default 0, add column "safety_stock" bigint not null default 0;`,
    );
    this.addSql(
      `alter table "stock_level" add constraint "stock_level_damaged_check" check (damaged >= 0), add constraint "stock_level_quality_control_check" check (quality_control >= 0), add constraint "stock_level_safety_stock_check" check (safety_stock >= 0), add constraint "stock_level_held_le_on_hand_check" check (allocated + damaged + quality_control + safety_stock <= on_hand);`,
    );
    this.addSql(`drop index if exists "stock_level_available_idx";`);
    this.addSql(
      `create index "stock_level_available_idx" on "stock_level" (("on_hand" - "allocated" - "damaged" - "quality_control" - "safety_stock"), "sku", "warehouse_code") where "version" > 0;`,
    );

    this.addSql(
      `alter table "stock_movement" add column "damaged_delta" bigint not null default 0, add column "quality_control_delta" bigint not null default 0, add column "safety_stock_delta" bigint not null default 0;`,
    );
    this.addSql(
      `alter table "stock_movement" drop constraint "stock_movement_type_check", add constraint "stock_movement_type_check" check ("type" in ('RECEIPT', 'ADJUSTMENT', 'TRANSFER_OUT', 'TRANSFER_IN', 'ALLOCATION', 'RELEASE', 'FULFILMENT', 'EXPIRY', 'STATE_MOVE'));`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`delete from "stock_movement" where "type" = 'STATE_MOVE';`);
    this.addSql(
      `alter table "stock_movement" drop constraint "stock_movement_type_check", add constraint "stock_movement_type_check" check ("type" in ('RECEIPT', 'ADJUSTMENT', 'TRANSFER_OUT', 'TRANSFER_IN', 'ALLOCATION', 'RELEASE', 'FULFILMENT', 'EXPIRY'));`,
    );
    this.addSql(`alter table "stock_movement" drop column "damaged_delta", drop column "quality_control_delta", drop column "safety_stock_delta";`);
    this.addSql(`drop index if exists "stock_level_available_idx";`);
    this.addSql(
      `alter table "stock_level" drop constraint "stock_level_held_le_on_hand_check", drop column "damaged", drop column "quality_control", drop column "safety_stock";`,
    );
    this.addSql(`create index "stock_level_available_idx" on "stock_level" (("on_hand" - "allocated"), "sku", "warehouse_code") where "version" > 0;`);
  }
}
