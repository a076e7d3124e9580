import { Migration } from '@mikro-orm/migrations';

/** The global feed's bookkeeping row and the index the sequencer reads. */
export class Migration20261125000003Events extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "event_feed" ("id" int not null default 1, "last_position" bigint not null default 0, "pruned_through" bigint not null default 0, constraint "event_feed_pkey" primary key ("id"));`);
    this.addSql(`insert into "event_feed" ("id", "last_position", "pruned_through") values (1, 0, 0);`);
    this.addSql(`create index "event_outbox_unsequenced_idx" on "event_outbox" ("id") where "position" is null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists "event_outbox_unsequenced_idx";`);
    this.addSql(`drop table if exists "event_feed" cascade;`);
  }
}
