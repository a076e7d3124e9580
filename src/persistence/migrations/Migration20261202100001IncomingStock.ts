import { Migration } from '@mikro-orm/migrations';

/**
 * Incoming stock (docs/stock-and-allocations.md#incoming-stock): units expected at a
 * warehouse, received against in parts, or cancelled. A new table, so nothing existing is
 * rewritten or scanned.
 */
export class Migration20261202100001IncomingStock extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "incoming_stock" ("incoming_id" varchar(128) not null, "sku" varchar(64) not null, "warehouse_code" varchar(32) not null, "quantity" bigint not null, "received" bigint not null default 0, "status" text check ("status" in ('OPEN', 'RECEIVED', 'CANCELLED')) not null default 'OPEN', "expected_time" timestamptz not null, "reference" varchar(200) not null default '', "version" int not null default 1, "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint "incoming_stock_pkey" primary key ("incoming_id"), constraint incoming_stock_quantity_check check (quantity > 0), constraint incoming_stock_received_check check (received >= 0 and received <= quantity));`,
    );
    this.addSql(`create index "incoming_stock_sku_time_idx" on "incoming_stock" ("sku", "expected_time", "incoming_id");`);
    this.addSql(`create index "incoming_stock_warehouse_time_idx" on "incoming_stock" ("warehouse_code", "expected_time", "incoming_id");`);
    this.addSql(`alter table "incoming_stock" add constraint "incoming_stock_sku_foreign" foreign key ("sku") references "item" ("sku") on update cascade;`);
    this.addSql(
      `alter table "incoming_stock" add constraint "incoming_stock_warehouse_code_foreign" foreign key ("warehouse_code") references "warehouse" ("code") on update cascade;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "incoming_stock" cascade;`);
  }
}
