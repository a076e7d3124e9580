/**
 * The event table's layout, in one place. One item per event:
 *   streamId (S, partition key)  e.g. "stock#SKU-1#BER-1"
 *   version  (N, sort key)       1, 2, 3, ... gapless per stream
 * and the attributes below. Snapshots live in the same table under the partition key
 * `snapshot#<streamId>`, sort key = the stream version they summarise.
 */
export const KEY = { partition: 'streamId', sort: 'version' } as const;

export const ATTR = {
  eventId: 'eventId',
  type: 'type',
  schemaVersion: 'schemaVersion',
  correlationId: 'correlationId',
  actor: 'actor',
  occurredAt: 'occurredAt',
  payload: 'payload',
  position: 'position',
  expiresAt: 'expiresAt',
} as const;

export const SNAPSHOT_PREFIX = 'snapshot#';

/** The event table as created by the service at start-up and by `provision`: on-demand capacity. */
export const eventTableDefinition = (table: string) => ({
  TableName: table,
  BillingMode: 'PAY_PER_REQUEST' as const,
  AttributeDefinitions: [
    { AttributeName: KEY.partition, AttributeType: 'S' as const },
    { AttributeName: KEY.sort, AttributeType: 'N' as const },
  ],
  KeySchema: [
    { AttributeName: KEY.partition, KeyType: 'HASH' as const },
    { AttributeName: KEY.sort, KeyType: 'RANGE' as const },
  ],
});
