import { Migration } from '@mikro-orm/migrations';

/** The online integrity auditor's checkpoint (one row) and its findings. */
export class Migration20261201090000Integrity extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "integrity_audit" ("id" int not null default 1, "position" bigint not null default 0, "sweep_kind" varchar(32) not null default '', "sweep_after" varchar(300) not null default '', "sweeps_completed" int not null default 0, "updated_at" timestamptz null, constraint "integrity_audit_pkey" primary key ("id"));`);
    this.addSql(`insert into "integrity_audit" ("id") values (1);`);
    this.addSql(`create table "integrity_finding" ("id" bigserial primary key, "kind" varchar(32) not null, "stream_id" varchar(300) not null, "detail" text not null, "found_at" timestamptz not null, "resolved_at" timestamptz null);`);
    this.addSql(`create index "integrity_finding_open_idx" on "integrity_finding" ("stream_id") where "resolved_at" is null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "integrity_finding" cascade;`);
    this.addSql(`drop table if exists "integrity_audit" cascade;`);
  }
}
