import type { EventEnvelope, EventType } from '../types.js';

/** One event_outbox row as raw SQL returns it (bigint as string, jsonb parsed). */
export interface OutboxRow {
  event_id: string;
  stream_id: string;
  version: string | number;
  type: string;
  schema_version: number;
  correlation_id: string;
  actor: string;
  occurred_at: Date | string;
  payload: unknown;
  position: string | number | null;
}

/** The columns of OutboxRow, for select lists (`o.` prefixed). */
export const OUTBOX_COLUMNS =
  'o.event_id, o.stream_id, o.version, o.type, o.schema_version, o.correlation_id, o.actor, o.occurred_at, o.payload, o.position';

export function envelopeOfRow(r: OutboxRow): EventEnvelope {
  return {
    eventId: r.event_id,
    streamId: r.stream_id,
    version: Number(r.version),
    type: r.type as EventType,
    schemaVersion: r.schema_version,
    correlationId: r.correlation_id,
    actor: r.actor,
    occurredAt: r.occurred_at instanceof Date ? r.occurred_at : new Date(r.occurred_at),
    data: (typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload) as EventEnvelope['data'],
    position: r.position === null ? undefined : Number(r.position),
  };
}
