import type { MikroORM } from '@mikro-orm/postgresql';

/** Committed outbox rows still waiting for a step after commit. */
export interface OutboxWaiting {
  /** How many. */
  readonly count: number;
  /** Age in milliseconds of the oldest of them; 0 when there are none. */
  readonly oldestAgeMs: number;
}

/** The feed sequencer's backlog: committed events still waiting for a feed position. */
export type FeedLag = OutboxWaiting;

// Each condition matches a partial index (event_outbox_pending_idx, event_outbox_unsequenced_idx).
const WAITING_FOR = { append: 'appended_at is null', position: 'position is null' } as const;

/**
 * How far a step behind the commits is: the relay's append to DynamoDB, or the sequencer's
 * feed position.
 */
export async function outboxWaiting(orm: MikroORM, step: keyof typeof WAITING_FOR): Promise<OutboxWaiting> {
  const rows = (await orm.em
    .fork()
    .getConnection()
    .execute(
      `select count(*)::int as count,
              coalesce(extract(epoch from (now() - min(occurred_at))) * 1000, 0)::float8 as age
         from event_outbox where ${WAITING_FOR[step]}`,
    )) as Array<{ count: number; age: number }>;
  const row = rows[0];
  return { count: row?.count ?? 0, oldestAgeMs: Math.max(0, Math.round(row?.age ?? 0)) };
}

/** How far the feed sequencer is behind the commits. */
export const feedLag = (orm: MikroORM): Promise<FeedLag> => outboxWaiting(orm, 'position');
