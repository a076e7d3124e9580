import { Migration } from '@mikro-orm/migrations';

/**
 * Cache coherence across instances: every event recorded in the outbox notifies channel
 * `inventory_cache` with its stream id. The notification is sent from inside the writing
 * transaction, so PostgreSQL delivers it to every listening instance when, and only if,
 * the transaction commits (src/cache/invalidation-listener.ts). Doing it here rather than
 * in application code means no write path can forget it, and no crash between commit and
 * a separate NOTIFY can lose it.
 */
export class Migration20261126000001CacheNotify extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create or replace function "inventory_notify_cache"() returns trigger language plpgsql as $$
begin
  perform pg_notify('inventory_cache', new."stream_id");
  return null;
end
$$;`);
    this.addSql(`create trigger "event_outbox_notify_cache" after insert on "event_outbox" for each row execute function "inventory_notify_cache"();`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop trigger if exists "event_outbox_notify_cache" on "event_outbox";`);
    this.addSql(`drop function if exists "inventory_notify_cache"();`);
  }
}
