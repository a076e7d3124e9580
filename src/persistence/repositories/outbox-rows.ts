import type { EntityManager } from '@mikro-orm/postgresql';
import type { OutboxEvent } from '../entities/outbox-event.entity.js';
import { num, PREPARED, query } from '../sql.js';

/**
 * Inserts a transaction's outbox rows in ONE statement and sets each row's `id` (the
 * commit listeners hand the rows on with it: the relay marks them by id). Hand-written
 * like the other hot-path statements: through the ORM's flush, the same insert cost a
 * change-set computation and a comparator pass per row, on every write.
 */
export async function insertOutboxRows(em: EntityManager, rows: readonly OutboxEvent[]): Promise<void> {
  if (rows.length === 0) return;
  const inserted = await query<{ id: string; event_id: string }>(
    em,
    `insert into event_outbox (event_id, stream_id, version, type, schema_version, payload, correlation_id, actor, occurred_at, trace_context)
     select * from unnest(?::uuid[], ?::text[], ?::bigint[], ?::text[], ?::int[], ?::jsonb[], ?::text[], ?::text[], ?::timestamptz[], ?::text[])
     returning id, event_id`,
    [
      rows.map((r) => r.eventId),
      rows.map((r) => r.streamId),
      rows.map((r) => r.version),
      rows.map((r) => r.type),
      rows.map((r) => r.schemaVersion),
      rows.map((r) => JSON.stringify(r.payload)),
      rows.map((r) => r.correlationId),
      rows.map((r) => r.actor),
      rows.map((r) => r.occurredAt),
      rows.map((r) => r.traceContext),
    ],
    PREPARED,
  );
  const ids = new Map(inserted.map((r) => [r.event_id, num(r.id)]));
  for (const row of rows) {
    const id = ids.get(row.eventId);
    if (id === undefined) throw new Error(`outbox row ${row.eventId} was not inserted`);
    row.id = id;
  }
}
