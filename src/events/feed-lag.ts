import type { MikroORM } from '@mikro-orm/postgresql';

export interface FeedLag {
  /** Committed events still waiting for a feed position. */
  readonly count: number;
  /** Age in milliseconds of the oldest of them; 0 when there are none. */
  readonly oldestAgeMs: number;
}

/** How far the feed sequencer is behind the commits (uses the partial index on unsequenced rows). */
export async function feedLag(orm: MikroORM): Promise<FeedLag> {
  const rows = (await orm.em
    .fork()
    .getConnection()
    .execute(
      `select count(*)::int as count,
              coalesce(extract(epoch from (now() - min(occurred_at))) * 1000, 0)::float8 as age
         from event_outbox where position is null`,
    )) as Array<{ count: number; age: number }>;
  const row = rows[0];
  return { count: row?.count ?? 0, oldestAgeMs: Math.max(0, Math.round(row?.age ?? 0)) };
}
