import {
  ConditionalCheckFailedException,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { ATTR, KEY, SNAPSHOT_PREFIX } from './dynamo-schema.js';

/** The state of a stream up to and including `version`, as its projection computes it. */
export interface Snapshot {
  readonly streamId: string;
  readonly version: number;
  readonly state: unknown;
  readonly takenAt: Date;
}

export const SNAPSHOT_ATTR = { state: 'state', takenAt: 'takenAt' } as const;

/** Snapshot items: partition `snapshot#<streamId>`, sort key = version. They never expire. */
export class SnapshotStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  /** Writes (or rewrites, identically) a snapshot. */
  async put(s: Snapshot): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: this.table,
        Item: {
          [KEY.partition]: { S: `${SNAPSHOT_PREFIX}${s.streamId}` },
          [KEY.sort]: { N: String(s.version) },
          [SNAPSHOT_ATTR.state]: { S: JSON.stringify(s.state) },
          [SNAPSHOT_ATTR.takenAt]: { S: s.takenAt.toISOString() },
        },
      }),
    );
  }

  /** The newest snapshot of a stream at or below `maxVersion`. */
  async latest(streamId: string, maxVersion = Number.MAX_SAFE_INTEGER): Promise<Snapshot | undefined> {
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: '#s = :s and #v <= :max',
        ExpressionAttributeNames: { '#s': KEY.partition, '#v': KEY.sort },
        ExpressionAttributeValues: { ':s': { S: `${SNAPSHOT_PREFIX}${streamId}` }, ':max': { N: String(maxVersion) } },
        ScanIndexForward: false,
        Limit: 1,
        ConsistentRead: true,
      }),
    );
    const item = out.Items?.[0];
    if (item === undefined) return undefined;
    return {
      streamId,
      version: Number(item[KEY.sort]?.N),
      state: JSON.parse(item[SNAPSHOT_ATTR.state]?.S ?? 'null') as unknown,
      takenAt: new Date(item[SNAPSHOT_ATTR.takenAt]?.S ?? 0),
    };
  }

  /** Lets DynamoDB expire one event (TTL attribute); a missing event (expired already) is fine. */
  async expireEvent(streamId: string, version: number, expiresAt: number): Promise<void> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: { [KEY.partition]: { S: streamId }, [KEY.sort]: { N: String(version) } },
          UpdateExpression: 'SET #e = :e',
          ConditionExpression: 'attribute_exists(#s)',
          ExpressionAttributeNames: { '#e': ATTR.expiresAt, '#s': KEY.partition },
          ExpressionAttributeValues: { ':e': { N: String(expiresAt) } },
        }),
      );
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
  }
}
