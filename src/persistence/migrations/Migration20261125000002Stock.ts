import { Migration } from '@mikro-orm/migrations';

/**
 * Stock levels, the partitioned stock ledger, allocations and idempotency records.
 *
 * `stock_movement` is partitioned by month on `created_at`. The partitions themselves are
 * created by `StockMovementPartitions` (src/persistence/partitions.ts) at start-up and
 * periodically, for the current month and the months ahead, so no partition is named here.
 */
export class Migration20261125000002Stock extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "stock_level" ("sku" varchar(64) not null, "warehouse_code" varchar(32) not null, "on_hand" bigint not null default 0, "allocated" bigint not null default 0, "version" bigint not null default 0, "created_at" timestamptz not null, "updated_at" timestamptz null, constraint "stock_level_pkey" primary key ("sku", "warehouse_code"), constraint stock_level_allocated_le_on_hand_check check (allocated <= on_hand), constraint stock_level_allocated_check check (allocated >= 0), constraint stock_level_on_hand_check check (on_hand >= 0));`);
    this.addSql(`alter table "stock_level" add constraint "stock_level_sku_foreign" foreign key ("sku") references "item" ("sku") on update cascade;`);
    this.addSql(`alter table "stock_level" add constraint "stock_level_warehouse_code_foreign" foreign key ("warehouse_code") references "warehouse" ("code") on update cascade;`);

    this.addSql(`create table "stock_movement" ("created_at" timestamptz not null, "id" bigserial not null, "sku" varchar(64) not null, "warehouse_code" varchar(32) not null, "type" text check ("type" in ('RECEIPT', 'ADJUSTMENT', 'TRANSFER_OUT', 'TRANSFER_IN', 'ALLOCATION', 'RELEASE', 'FULFILMENT', 'EXPIRY')) not null, "on_hand_delta" bigint not null, "allocated_delta" bigint not null, "reason" varchar(200) not null default '', "reference" varchar(200) not null default '', "allocation_id" varchar(128) null, "idempotency_key" varchar(128) null, "stock_version" bigint not null, constraint "stock_movement_pkey" primary key ("created_at", "id")) partition by range ("created_at");`);
    this.addSql(`create index "stock_movement_warehouse_time_idx" on "stock_movement" ("warehouse_code", "created_at", "id");`);
    this.addSql(`create index "stock_movement_level_time_idx" on "stock_movement" ("sku", "warehouse_code", "created_at", "id");`);

    this.addSql(`create table "allocation" ("allocation_id" varchar(128) not null, "status" text check ("status" in ('ALLOCATED', 'RELEASED', 'FULFILLED', 'EXPIRED')) not null default 'ALLOCATED', "request_hash" varchar(64) not null, "expire_time" timestamptz null, "version" int not null default 1, "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint "allocation_pkey" primary key ("allocation_id"));`);
    this.addSql(`create index "allocation_expiry_idx" on "allocation" ("expire_time") where "status" = 'ALLOCATED' and "expire_time" is not null;`);

    this.addSql(`create table "allocation_line" ("allocation_id" varchar(128) not null, "sku" varchar(64) not null, "warehouse_code" varchar(32) not null, "quantity" bigint not null, constraint "allocation_line_pkey" primary key ("allocation_id", "sku", "warehouse_code"), constraint allocation_line_quantity_check check (quantity > 0));`);
    this.addSql(`create index "allocation_line_level_idx" on "allocation_line" ("sku", "warehouse_code");`);
    this.addSql(`alter table "allocation_line" add constraint "allocation_line_allocation_id_foreign" foreign key ("allocation_id") references "allocation" ("allocation_id") on update cascade on delete cascade;`);

    this.addSql(`create table "idempotency_record" ("key" varchar(128) not null, "operation" varchar(32) not null, "request_hash" varchar(64) not null, "response" jsonb null, "created_at" timestamptz not null, constraint "idempotency_record_pkey" primary key ("key"));`);
    this.addSql(`create index "idempotency_record_created_at_idx" on "idempotency_record" ("created_at");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "idempotency_record" cascade;`);
    this.addSql(`drop table if exists "allocation_line" cascade;`);
    this.addSql(`drop table if exists "allocation" cascade;`);
    this.addSql(`drop table if exists "stock_movement" cascade;`);
    this.addSql(`drop table if exists "stock_level" cascade;`);
  }
}
