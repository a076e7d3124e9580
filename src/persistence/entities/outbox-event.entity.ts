import { BigIntType, Entity, Index, OptionalProps, PrimaryKey, Property, Unique } from '@mikro-orm/core';

/**
 * An event recorded in the same transaction as the state change it describes. Rows stay
 * after they are appended to DynamoDB: `appended_at` marks the append, `position` is the
 * event's place in the global feed (assigned after commit, in commit order).
 */
@Entity({ tableName: 'event_outbox' })
@Unique({ name: 'event_outbox_stream_version_unique', properties: ['streamId', 'version'] })
export class OutboxEvent {
  [OptionalProps]?: 'id' | 'position' | 'appendedAt' | 'schemaVersion' | 'traceContext';

  @PrimaryKey({ type: new BigIntType('number'), autoincrement: true })
  id!: number;

  @Property({ type: 'uuid', unique: 'event_outbox_event_id_unique' })
  eventId: string;

  @Property({ type: 'string', length: 300 })
  streamId: string;

  @Property({ type: new BigIntType('number') })
  version: number;

  @Property({ type: 'string', length: 100 })
  type: string;

  @Property({ type: 'integer', default: 1 })
  schemaVersion: number = 1;

  @Property({ type: 'json' })
  payload: unknown;

  @Property({ type: 'string', length: 100 })
  correlationId: string;

  @Property({ type: 'datetime', columnType: 'timestamptz' })
  occurredAt: Date;

  // The sequencer's work list: committed rows still waiting for a position.
  @Index({ name: 'event_outbox_unsequenced_idx', expression: 'create index "event_outbox_unsequenced_idx" on "event_outbox" ("id") where "position" is null' })
  @Property({ type: new BigIntType('number'), nullable: true, unique: 'event_outbox_position_unique' })
  position: number | null = null;

  @Index({ name: 'event_outbox_pending_idx', expression: 'create index "event_outbox_pending_idx" on "event_outbox" ("id") where "appended_at" is null' })
  @Property({ type: 'datetime', columnType: 'timestamptz', nullable: true })
  appendedAt: Date | null = null;

  /** The recording call's W3C traceparent (null: not traced); the append span joins it. */
  @Property({ type: 'string', length: 128, nullable: true })
  traceContext: string | null = null;

  constructor(init: {
    eventId: string;
    streamId: string;
    version: number;
    type: string;
    payload: unknown;
    correlationId: string;
    occurredAt: Date;
  }) {
    this.eventId = init.eventId;
    this.streamId = init.streamId;
    this.version = init.version;
    this.type = init.type;
    this.payload = init.payload;
    this.correlationId = init.correlationId;
    this.occurredAt = init.occurredAt;
  }
}
