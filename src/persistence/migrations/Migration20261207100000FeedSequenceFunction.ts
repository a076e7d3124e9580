import { Migration } from '@mikro-orm/migrations';

/**
 * The feed sequencer's pass as one function, so that a pass is one round trip and one
 * commit (called in autocommit) instead of six statements (src/events/feed/sequencer.ts).
 *
 * The statements stay separate inside it, and that is what keeps positions exact with
 * several instances: the function is VOLATILE, and in READ COMMITTED a VOLATILE function
 * takes a fresh snapshot for every statement it runs (PostgreSQL docs, "Function
 * Volatility Categories": STABLE and IMMUTABLE functions use the snapshot of the calling
 * query, VOLATILE ones a new one per query). So the numbering `update` sees every row
 * numbered by an instance that committed before this one got the feed row's lock. One SQL
 * statement with the lock and the numbering in CTEs would share one snapshot, taken before
 * the lock was granted, and could number rows a second time (READ COMMITTED re-checks only
 * the locked row). Never mark it STABLE or IMMUTABLE.
 *
 * It returns the rows it numbered (any order); none when nothing was waiting; and one row
 * whose `position` is null when another sequencer holds the feed row (SKIP LOCKED: busy,
 * nothing done). The NOTIFY goes out at commit, like any other.
 */
export class Migration20261207100000FeedSequenceFunction extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create or replace function "inventory_feed_sequence"("batch_size" int, "channel" text)
returns table ("event_id" uuid, "stream_id" text, "version" bigint, "type" text, "schema_version" int,
               "correlation_id" text, "actor" text, "occurred_at" timestamptz, "payload" jsonb, "position" bigint)
language plpgsql volatile
as $$
#variable_conflict use_column
declare
  first_position bigint;
  numbered_count bigint;
begin
  select f."last_position" into first_position from "event_feed" f where f."id" = 1 for update skip locked;
  if not found then
    return query select null::uuid, null::text, null::bigint, null::text, null::int,
                        null::text, null::text, null::timestamptz, null::jsonb, null::bigint;
    return;
  end if;
  -- A new statement, so a new snapshot: taken after the lock above was granted.
  return query
    with "picked" as (select e."id" from "event_outbox" e where e."position" is null order by e."id" limit "batch_size"),
         "ranked" as (select p."id", row_number() over (order by p."id") as "rn" from "picked" p)
    update "event_outbox" o set "position" = first_position + r."rn" from "ranked" r where o."id" = r."id"
    returning o."event_id", o."stream_id"::text, o."version", o."type"::text, o."schema_version",
              o."correlation_id"::text, o."actor"::text, o."occurred_at", o."payload", o."position";
  get diagnostics numbered_count = row_count;
  if numbered_count > 0 then
    update "event_feed" set "last_position" = first_position + numbered_count where "id" = 1;
    perform pg_notify("channel", (first_position + numbered_count)::text);
  end if;
end
$$;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop function if exists "inventory_feed_sequence"(int, text);`);
  }
}
