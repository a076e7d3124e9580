import type { EntityManager } from '@mikro-orm/postgresql';
import type { OutboxEvent } from '../entities/outbox-event.entity.js';
import { num, query } from '../sql.js';

/**
 * Inserts a transaction's outbox rows in ONE statement and sets their ids, in the order
 * given: ids (and so feed positions, which follow ids) keep the order the events were
 * recorded in. The rows stay plain objects, outside the EntityManager: nothing reads them
 * back through it, and MikroORM's flush (change sets, then a statement with every value
 * inlined) cost several times the CPU of this per event.
 */
export async function insertOutboxEvents(em: EntityManager, rows: readonly OutboxEvent[]): Promise<void> {
  if (rows.length === 0) return;
  const inserted = await query<{ id: string; event_id: string }>(
    em,
    `insert into "event_outbox" (event_id, stream_id, version, type, schema_version, payload, correlation_id, actor, occurred_at, trace_context)
     select r.event_id, r.stream_id, r.version, r.type, r.schema_version, r.payload, r.correlation_id, r.actor, r.occurred_at, r.trace_context
       from unnest(?::uuid[], ?::text[], ?::bigint[], ?::text[], ?::int[], ?::jsonb[], ?::text[], ?::text[], ?::timestamptz[], ?::text[])
            with ordinality as r(event_id, stream_id, version, type, schema_version, payload, correlation_id, actor, occurred_at, trace_context, n)
      order by r.n
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
  );
  const ids = new Map(inserted.map((r) => [r.event_id, num(r.id)]));
  for (const r of rows) {
    const id = ids.get(r.eventId);
    if (id === undefined) throw new Error(`outbox insert returned no id for event ${r.eventId}`);
    r.id = id;
  }
}
