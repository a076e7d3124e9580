import { QueryCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { fromItem } from './dynamo-appender.js';
import { KEY } from './dynamo-schema.js';
import type { EventEnvelope } from './types.js';

export interface StreamRange {
  readonly streamId: string;
  /** Lowest version to read (inclusive). */
  readonly lowVersion: number;
  /** Highest version to read (inclusive). */
  readonly highVersion: number;
  readonly direction: 'forward' | 'backward';
  /** At most this many events; undefined for all. */
  readonly limit?: number | undefined;
}

/** Counters for the benchmark and the backpressure test. */
export interface ReaderStats {
  pages: number;
  items: number;
}

/**
 * Reads one stream from the event table with Query, one page at a time: the next page is
 * requested only when the consumer has taken every event of the previous one, so a slow
 * consumer holds back the reads instead of piling events up in memory. An aborted signal
 * cancels the request in flight and ends the iteration.
 */
export class DynamoReader {
  readonly stats: ReaderStats = { pages: 0, items: 0 };

  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
    private readonly pageSize: number,
  ) {}

  async *read(range: StreamRange, signal?: AbortSignal): AsyncGenerator<EventEnvelope> {
    if (range.lowVersion > range.highVersion) return;
    let remaining = range.limit ?? Number.POSITIVE_INFINITY;
    let start: Record<string, AttributeValue> | undefined;
    do {
      if (signal?.aborted) return;
      const out = await this.query(range, remaining, start, signal);
      this.stats.pages++;
      const items = out.Items ?? [];
      this.stats.items += items.length;
      for (const item of items) {
        if (signal?.aborted) return;
        yield fromItem(item);
        if (--remaining <= 0) return;
      }
      start = out.LastEvaluatedKey;
    } while (start !== undefined);
  }

  /**
   * One Query page. The SDK leaves a listener on the abort signal it is given, so each page
   * gets its own short-lived signal tied to the caller's.
   */
  private async query(range: StreamRange, remaining: number, start: Record<string, AttributeValue> | undefined, signal?: AbortSignal) {
    const controller = new AbortController();
    const abort = () => controller.abort();
    signal?.addEventListener('abort', abort, { once: true });
    try {
      return await this.client.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: '#s = :s and #v between :lo and :hi',
          ExpressionAttributeNames: { '#s': KEY.partition, '#v': KEY.sort },
          ExpressionAttributeValues: {
            ':s': { S: range.streamId },
            ':lo': { N: String(range.lowVersion) },
            ':hi': { N: String(range.highVersion) },
          },
          ScanIndexForward: range.direction === 'forward',
          Limit: Math.min(this.pageSize, remaining),
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
        { abortSignal: controller.signal },
      );
    } finally {
      signal?.removeEventListener('abort', abort);
    }
  }
}
