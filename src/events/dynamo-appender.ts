import {
  BatchGetItemCommand,
  type BatchGetItemCommandOutput,
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import type { Logger } from '../log.js';
import { BatchedInserts, BatchUnsupportedError, batchesOf } from './batched-inserts.js';
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
    [ATTR.actor]: { S: e.actor ?? 'unknown' },
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
    actor: item[ATTR.actor]?.S ?? 'unknown',
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
  private readonly batched: BatchedInserts;
  /** Whether the endpoint has BatchExecuteStatement; found out by the first batch. */
  private batching: 'unknown' | 'supported' | 'unsupported' = 'unknown';

  constructor(
    readonly client: DynamoDBClient,
    readonly table: string,
    private readonly log: Logger,
    private readonly expiresAtFor: (e: EventEnvelope) => number | undefined = () => undefined,
  ) {
    this.batched = new BatchedInserts(client, table, (e) => toItem(e, this.expiresAtFor(e)));
  }

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
      await this.confirmStored(e);
    }
  }

  /** (stream, version) is taken: resolves if by this very event, else a StreamConflictError. */
  private async confirmStored(e: EventEnvelope): Promise<void> {
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
      throw conflict(e, id);
    }
  }

  /**
   * Appends many events; returns the ids of those that are now stored. Batched (25 per
   * request) where the endpoint has BatchExecuteStatement, else one PutItem per event; the
   * first batch finds out which, once per appender.
   */
  async appendAll(events: readonly EventEnvelope[], concurrency = 16): Promise<{ done: string[]; failed: number }> {
    if (events.length === 0 || this.batching === 'unsupported') return this.appendEach(events, concurrency);
    const batches = batchesOf(events);
    const result = { done: [] as string[], failed: 0 };
    let next = 0;
    try {
      // Until an answer says whether the endpoint batches, one batch at a time.
      while (this.batching === 'unknown' && next < batches.length) {
        if (await this.appendBatch(batches[next++]!, result)) this.batching = 'supported';
      }
      // A batch carries 25 events, so fewer requests in flight keep the same events in flight.
      const worker = async () => {
        while (next < batches.length) await this.appendBatch(batches[next++]!, result);
      };
      const workers = Math.min(Math.max(1, Math.ceil(concurrency / 4)), batches.length - next);
      await Promise.all(Array.from({ length: workers }, worker));
      return result;
    } catch (err) {
      if (!(err instanceof BatchUnsupportedError)) throw err;
      // Nothing was stored by a batch yet: the endpoint never accepted one.
      this.batching = 'unsupported';
      this.log.info({ reason: err.message }, 'event appends: one PutItem per event (no batched conditional writes on this endpoint)');
      return this.appendEach(events, concurrency);
    }
  }

  /**
   * One batch, with its transient failures (throttling, 5xx, a lost connection) retried after
   * a jittered, growing pause; what still fails is counted, and stays in the outbox.
   * Resolves whether the endpoint answered the batch call at all.
   */
  private async appendBatch(batch: readonly EventEnvelope[], result: { done: string[]; failed: number }): Promise<boolean> {
    let answered = false;
    let pending = batch;
    const existing: EventEnvelope[] = [];
    let lastError = '';
    for (let attempt = 0; pending.length > 0 && attempt < BATCH_ATTEMPTS; attempt++) {
      if (attempt > 0) await pause(attempt);
      let outcomes;
      try {
        outcomes = await this.batched.insert(pending);
      } catch (err) {
        if (err instanceof BatchUnsupportedError) throw err;
        lastError = (err as Error).message;
        if (transient(err)) continue;
        break;
      }
      answered = true;
      const retry: EventEnvelope[] = [];
      outcomes.forEach((o, i) => {
        const e = pending[i]!;
        switch (o.kind) {
          case 'stored':
            result.done.push(e.eventId);
            break;
          case 'exists':
            existing.push(e);
            break;
          case 'retry':
            lastError = o.reason;
            retry.push(e);
            break;
          case 'failed':
            result.failed++;
            this.log.warn({ err: o.reason, streamId: e.streamId, version: e.version }, 'event append failed');
            break;
          default: {
            const never: never = o;
            throw new Error(`unknown outcome ${JSON.stringify(never)}`);
          }
        }
      });
      pending = retry;
    }
    if (pending.length > 0) {
      result.failed += pending.length;
      this.log.debug({ err: lastError, events: pending.length }, 'event batch append failed');
    }
    if (existing.length > 0) await this.confirmAll(existing, result);
    return answered;
  }

  /**
   * The batch's events whose (stream, version) was taken: one consistent BatchGetItem reads
   * whose they are (the sweep re-appending events after a crash finds many at once).
   */
  private async confirmAll(events: readonly EventEnvelope[], result: { done: string[]; failed: number }): Promise<void> {
    const keyOf = (streamId: string | undefined, version: string | undefined) => `${streamId}\u0000${version}`;
    const stored = new Map<string, string | undefined>();
    let keys: Array<Record<string, AttributeValue>> | undefined = events.map((e) => ({
      [KEY.partition]: { S: e.streamId },
      [KEY.sort]: { N: String(e.version) },
    }));
    try {
      for (let attempt = 0; keys !== undefined && keys.length > 0; attempt++) {
        if (attempt > 0) await pause(attempt);
        if (attempt >= BATCH_ATTEMPTS) throw new Error('BatchGetItem left keys unprocessed');
        const out: BatchGetItemCommandOutput = await this.client.send(
          new BatchGetItemCommand({
            RequestItems: {
              [this.table]: {
                Keys: keys,
                ConsistentRead: true,
                ProjectionExpression: '#s, #v, #id',
                ExpressionAttributeNames: { '#s': KEY.partition, '#v': KEY.sort, '#id': ATTR.eventId },
              },
            },
          }),
        );
        for (const item of out.Responses?.[this.table] ?? []) stored.set(keyOf(item[KEY.partition]?.S, item[KEY.sort]?.N), item[ATTR.eventId]?.S);
        keys = out.UnprocessedKeys?.[this.table]?.Keys;
      }
    } catch (err) {
      result.failed += events.length;
      this.log.debug({ err: (err as Error).message, events: events.length }, 'could not read the events already stored');
      return;
    }
    for (const e of events) {
      const id = stored.get(keyOf(e.streamId, String(e.version)));
      if (id === e.eventId) {
        result.done.push(e.eventId);
      } else {
        result.failed++;
        this.logFailure(conflict(e, id), e);
      }
    }
  }

  /** One conditional PutItem per event, `concurrency` at a time. */
  private async appendEach(events: readonly EventEnvelope[], concurrency: number): Promise<{ done: string[]; failed: number }> {
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
          this.logFailure(err, e);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, events.length) }, worker));
    return { done, failed };
  }

  private logFailure(err: unknown, e: EventEnvelope): void {
    if (err instanceof StreamConflictError) this.log.error({ err: err.message }, 'event stream conflict');
    else this.log.debug({ err: (err as Error).message, streamId: e.streamId }, 'event append failed');
  }
}

function conflict(e: EventEnvelope, storedId: string | undefined): StreamConflictError {
  return new StreamConflictError(`stream ${e.streamId} version ${e.version} holds event ${storedId ?? '(none)'}, not ${e.eventId}`);
}

/** Attempts per batch within one call; the relay's next pass retries what is left. */
const BATCH_ATTEMPTS = 3;

/** Full jitter (AWS's advice): a random pause up to 50 ms, 100 ms, 200 ms, ... at most 1 s. */
function pause(attempt: number): Promise<void> {
  const cap = Math.min(1_000, 50 * 2 ** (attempt - 1));
  return new Promise((r) => setTimeout(r, Math.random() * cap));
}

/** Throttling, a server error or a network failure: worth another attempt. */
function transient(err: unknown): boolean {
  const e = err as { name?: string; $retryable?: unknown; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode;
  if (e.$retryable !== undefined || (status !== undefined && status >= 500)) return true;
  if (/Throttl|ProvisionedThroughputExceeded|RequestLimitExceeded|InternalServerError/.test(e.name ?? '')) return true;
  // No HTTP status: the request never got an answer (refused, reset, timed out).
  return status === undefined;
}
