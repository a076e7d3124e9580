import type { EntityManager } from '@mikro-orm/postgresql';
import { PREPARED, query } from '../sql.js';

export interface StoredCall {
  readonly operation: string;
  readonly requestHash: string;
  readonly response: unknown;
}

/**
 * Claims an idempotency key for this transaction. Returns null when the key is new (the
 * caller goes on and calls `completeIdempotencyKey`), or the call stored under it. A
 * concurrent duplicate blocks on the unique key until the first transaction ends, then
 * reads its stored response (or claims the key itself if the first rolled back).
 */
export async function claimIdempotencyKey(
  em: EntityManager,
  owner: string,
  key: string,
  operation: string,
  requestHash: string,
  now: Date,
): Promise<StoredCall | null> {
  const claimed = await query(
    em,
    `insert into idempotency_record (owner, key, operation, request_hash, created_at) values (?, ?, ?, ?, ?)
     on conflict do nothing returning key`,
    [owner, key, operation, requestHash, now],
    PREPARED,
  );
  if (claimed.length > 0) return null;
  const rows = await query<{ operation: string; request_hash: string; response: unknown }>(
    em,
    `select operation, request_hash, response from idempotency_record where owner = ? and key = ?`,
    [owner, key],
    PREPARED,
  );
  const row = rows[0];
  if (row === undefined) throw new Error(`idempotency key ${key} vanished`);
  return { operation: row.operation, requestHash: row.request_hash, response: row.response };
}

export async function completeIdempotencyKey(em: EntityManager, owner: string, key: string, response: unknown): Promise<void> {
  await query(em, `update idempotency_record set response = ?::jsonb where owner = ? and key = ?`, [JSON.stringify(response), owner, key], PREPARED);
}

/**
 * Deletes up to `limit` records created before `before`, oldest first (by the created_at
 * index). Rows another purger holds are skipped, so instances purging at once do not wait
 * on each other. Returns how many were deleted.
 */
export async function purgeIdempotencyRecords(em: EntityManager, before: Date, limit: number): Promise<number> {
  const rows = await query<{ key: string }>(
    em,
    `delete from idempotency_record where key in (
       select key from idempotency_record where created_at < ? order by created_at limit ? for update skip locked
     ) returning key`,
    [before, limit],
  );
  return rows.length;
}
