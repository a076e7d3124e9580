import { BatchExecuteStatementCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EventEnvelope } from './types.js';

/** DynamoDB's limit of statements per BatchExecuteStatement. */
export const BATCH_LIMIT = 25;

/** What became of one INSERT of a batch. */
export type InsertOutcome =
  | { readonly kind: 'stored' }
  /** Something is stored at (stream, version) already: the same event, or a conflict. */
  | { readonly kind: 'exists' }
  /** Throttled or a transient server error: try again after a pause. */
  | { readonly kind: 'retry'; readonly reason: string }
  | { readonly kind: 'failed'; readonly reason: string };

/** The endpoint has no BatchExecuteStatement (dynalite). */
export class BatchUnsupportedError extends Error {
  override name = 'BatchUnsupportedError';
}

/** Statement error codes of BatchExecuteStatement that a later attempt can clear. */
const TRANSIENT = new Set(['ProvisionedThroughputExceeded', 'ThrottlingError', 'RequestLimitExceeded', 'InternalServerError', 'TransactionConflict']);

/**
 * Conditional appends of up to 25 events in one request: PartiQL INSERT statements sent as
 * one BatchExecuteStatement. An INSERT never overwrites: DynamoDB fails that statement alone
 * with DuplicateItem when the key exists, and the others still succeed. That is the
 * guarantee of the per-event conditional PutItem (`attribute_not_exists`), at the same
 * write units, in one round trip (docs/event-store-writes.md has the measurements that chose
 * it over TransactWriteItems).
 */
export class BatchedInserts {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
    /** The item of an event (the appender's `toItem`, with its expiry). */
    private readonly itemOf: (e: EventEnvelope) => Record<string, AttributeValue>,
  ) {}

  /** One request for these events (at most 25, distinct keys); one outcome per event, in order. */
  async insert(events: readonly EventEnvelope[]): Promise<InsertOutcome[]> {
    if (events.length > BATCH_LIMIT) throw new Error(`at most ${BATCH_LIMIT} events per batch, got ${events.length}`);
    let out;
    try {
      out = await this.client.send(new BatchExecuteStatementCommand({ Statements: events.map((e) => this.statement(e)) }));
    } catch (err) {
      const name = (err as { name?: string }).name;
      if (name === 'UnknownOperationException' || name === 'NotImplemented') throw new BatchUnsupportedError(`the endpoint has no BatchExecuteStatement (${name})`);
      throw err;
    }
    const responses = out.Responses ?? [];
    return events.map((_, i): InsertOutcome => {
      const error = responses[i]?.Error;
      if (responses[i] === undefined) return { kind: 'retry', reason: 'no response for the statement' };
      if (error === undefined) return { kind: 'stored' };
      const code = error.Code ?? 'unknown';
      if (code === 'DuplicateItem' || code === 'ConditionalCheckFailed') return { kind: 'exists' };
      const reason = `${code}: ${error.Message ?? ''}`;
      return TRANSIENT.has(code) ? { kind: 'retry', reason } : { kind: 'failed', reason };
    });
  }

  private statement(e: EventEnvelope): { Statement: string; Parameters: AttributeValue[] } {
    const item = this.itemOf(e);
    const names = Object.keys(item);
    // Attribute names are the schema's constants (dynamo-schema.ts), never input.
    return {
      Statement: `INSERT INTO "${this.table}" VALUE {${names.map((n) => `'${n}': ?`).join(', ')}}`,
      Parameters: names.map((n) => item[n]!),
    };
  }
}

/** Splits events into batches of at most `limit` whose keys are distinct within each batch. */
export function batchesOf(events: readonly EventEnvelope[], limit = BATCH_LIMIT): EventEnvelope[][] {
  const batches: Array<{ events: EventEnvelope[]; keys: Set<string> }> = [];
  for (const e of events) {
    const key = `${e.streamId}\u0000${e.version}`;
    let batch = batches.find((b) => b.events.length < limit && !b.keys.has(key));
    if (batch === undefined) {
      batch = { events: [], keys: new Set() };
      batches.push(batch);
    }
    batch.events.push(e);
    batch.keys.add(key);
  }
  return batches.map((b) => b.events);
}
