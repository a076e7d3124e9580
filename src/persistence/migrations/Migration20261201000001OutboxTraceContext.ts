import { Migration } from '@mikro-orm/migrations';

/**
 * The W3C traceparent of the call that recorded an event, so its DynamoDB append (right
 * after commit, or by a sweep long after, even in another process) joins that trace.
 * Null when the call was not traced.
 */
export class Migration20261201000001OutboxTraceContext extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "event_outbox" add column "trace_context" varchar(128) null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "event_outbox" drop column if exists "trace_context";`);
  }
}
