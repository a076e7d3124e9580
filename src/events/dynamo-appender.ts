import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import type { Logger } from '../log.js';
import { ATTR, KEY } from './dynamo-schema.js';
import type { EventEnvelope } from './types.js';

export interface DynamoSettings {
  readonly endpoint: string | undefined;
  readonly region: string;
  readonly table: string;
}

export function createDynamoClient(settings: DynamoSettings): DynamoDBClient {
  const local = settings.endpoint !== undefined && /^https?:\/\/(127\.|localhost|\[::1\])/.test(settings.endpoint);
  const haveCredentials = process.env.AWS_ACCESS_KEY_ID !== undefined || process.env.AWS_PROFILE !== undefined;
  return new DynamoDBClient({
    region: settings.region,
    ...(settings.endpoint !== undefined ? { endpoint: settings.endpoint } : {}),
    // A local DynamoDB API accepts any credentials; real AWS uses the default chain.
    ...(local && !haveCredentials ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
    // Fail fast: the outbox keeps every event, the relay retries later.
    maxAttempts: 2,
    // Without throwOnRequestTimeout the SDK only warns and a silent server holds the call forever.
    requestHandler: { connectionTimeout: 1_000, requestTimeout: 5_000, throwOnRequestTimeout: true },
  });
}

/** Raised when a stream position holds a different event: the two stores disagree. */
export class StreamConflictError extends Error {
  override name = 'StreamConflictError';
}

export function toItem(e: EventEnvelope, expiresAt?: number): Record<string, AttributeValue> {
  const item: Record<string, AttributeValue> = {
    [KEY.partition]: { S: e.streamId },
    [KEY.sort]: { N: String(e.version) },
    [ATTR.eventId]: { S: e.eventId },
    [ATTR.type]: { S: e.type },
    [ATTR.schemaVersion]: { N: String(e.schemaVersion) },
    [ATTR.correlationId]: { S: e.correlationId },
    [ATTR.occurredAt]: { S: e.occurredAt.toISOString() },
    [ATTR.payload]: { S: JSON.stringify(e.data) },
  };
  if (e.position !== undefined) item[ATTR.position] = { N: String(e.position) };
  if (expiresAt !== undefined) item[ATTR.expiresAt] = { N: String(expiresAt) };
  return item;
}

export function fromItem(item: Record<string, AttributeValue>): EventEnvelope {
  const s = (name: string): string => {
    const v = item[name]?.S;
    if (v === undefined) throw new Error(`event item lacks ${name}`);
    return v;
  };
  const n = (name: string): number => {
    const v = item[name]?.N;
    if (v === undefined) throw new Error(`event item lacks ${name}`);
    return Number(v);
  };
  const position = item[ATTR.position]?.N;
  return {
    streamId: s(KEY.partition),
    version: n(KEY.sort),
    eventId: s(ATTR.eventId),
    type: s(ATTR.type) as EventEnvelope['type'],
    schemaVersion: n(ATTR.schemaVersion),
    correlationId: s(ATTR.correlationId),
    occurredAt: new Date(s(ATTR.occurredAt)),
    data: JSON.parse(s(ATTR.payload)) as EventEnvelope['data'],
    position: position === undefined ? undefined : Number(position),
  };
}

/**
 * Appends events to the DynamoDB event table. Each append is a conditional put on
 * (stream, version) that never overwrites: writing the same event twice is harmless
 * (the second write finds its own event id and succeeds), while a different event at
 * the same place is a conflict that is reported, never papered over.
 */
export class DynamoAppender {
  constructor(
    readonly client: DynamoDBClient,
    readonly table: string,
    private readonly log: Logger,
    private readonly expiresAtFor: (e: EventEnvelope) => number | undefined = () => undefined,
  ) {}

  /** Appends one event; resolves once DynamoDB holds it (now or from an earlier write). */
  async append(e: EventEnvelope): Promise<void> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: toItem(e, this.expiresAtFor(e)),
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': KEY.partition },
        }),
      );
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
      const existing = await this.client.send(
        new GetItemCommand({
          TableName: this.table,
          Key: { [KEY.partition]: { S: e.streamId }, [KEY.sort]: { N: String(e.version) } },
          ConsistentRead: true,
          ProjectionExpression: '#id',
          ExpressionAttributeNames: { '#id': ATTR.eventId },
        }),
      );
      const id = existing.Item?.[ATTR.eventId]?.S;
      if (id !== e.eventId) {
        throw new StreamConflictError(
          `stream ${e.streamId} version ${e.version} holds event ${id ?? '(none)'}, not ${e.eventId}`,
        );
      }
    }
  }

  /** Appends many events, a few at a time; returns the ids of those that are now stored. */
  async appendAll(events: readonly EventEnvelope[], concurrency = 16): Promise<{ done: string[]; failed: number }> {
    const done: string[] = [];
    let failed = 0;
    let next = 0;
    const worker = async () => {
      while (next < events.length) {
        const e = events[next++]!;
        try {
          await this.append(e);
          done.push(e.eventId);
        } catch (err) {
          failed++;
          if (err instanceof StreamConflictError) this.log.error({ err: err.message }, 'event stream conflict');
          else this.log.debug({ err: (err as Error).message, streamId: e.streamId }, 'event append failed');
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, events.length) }, worker));
    return { done, failed };
  }
}
