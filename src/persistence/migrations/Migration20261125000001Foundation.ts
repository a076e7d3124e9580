import { Migration } from '@mikro-orm/migrations';

/** Warehouses, items and the event outbox. */
export class Migration20261125000001Foundation extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "warehouse" ("code" varchar(32) not null, "name" varchar(200) not null, "region" varchar(64) not null, "priority" int not null, "active" boolean not null default true, "version" int not null default 1, "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint "warehouse_pkey" primary key ("code"));`);

    this.addSql(`create table "item" ("sku" varchar(64) not null, "name" varchar(200) not null, "description" text not null default '', "version" int not null default 1, "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint "item_pkey" primary key ("sku"));`);
    this.addSql(`create index "item_sku_pattern_idx" on "item" ("sku" varchar_pattern_ops);`);

    this.addSql(`create table "event_outbox" ("id" bigserial primary key, "event_id" uuid not null, "stream_id" varchar(300) not null, "version" bigint not null, "type" varchar(100) not null, "schema_version" int not null default 1, "payload" jsonb not null, "correlation_id" varchar(100) not null, "occurred_at" timestamptz not null, "position" bigint null, "appended_at" timestamptz null);`);
    this.addSql(`alter table "event_outbox" add constraint "event_outbox_event_id_unique" unique ("event_id");`);
    this.addSql(`alter table "event_outbox" add constraint "event_outbox_position_unique" unique ("position");`);
    this.addSql(`create index "event_outbox_pending_idx" on "event_outbox" ("id") where "appended_at" is null;`);
    this.addSql(`alter table "event_outbox" add constraint "event_outbox_stream_version_unique" unique ("stream_id", "version");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "event_outbox" cascade;`);
    this.addSql(`drop table if exists "item" cascade;`);
    this.addSql(`drop table if exists "warehouse" cascade;`);
  }
}
