import type { EntityManager } from '@mikro-orm/postgresql';
import { query } from '../sql.js';

/**
 * Marks outbox rows as appended to DynamoDB, in one statement that commits without waiting
 * for its WAL flush (`synchronous_commit = off` for this transaction alone). The mark is a
 * hint, not a record: if a crash loses it, the sweep appends those events again, which is
 * harmless (appends are idempotent). Skipping the flush keeps the relay's commits from
 * queueing in front of the callers' own commits, which do wait for theirs.
 */
export async function markAppended(em: EntityManager, ids: readonly number[], at: Date): Promise<void> {
  if (ids.length === 0) return;
  await query(
    em,
    `with async_commit as (select set_config('synchronous_commit', 'off', true))
     update event_outbox set appended_at = ? where id = any(?::bigint[]) and exists (select 1 from async_commit)`,
    [at, ids],
  );
}
