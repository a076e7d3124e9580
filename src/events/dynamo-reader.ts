import { BatchGetItemCommand, QueryCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { setTimeout as sleep } from 'node:timers/promises';
import { DomainError } from '../inventory/errors.js';
import { fromItem } from './dynamo-appender.js';
import { KEY } from './dynamo-schema.js';
import type { ConcurrencyGate } from './gate.js';
import type { EventEnvelope } from './types.js';

/** One event's key. */
export interface EventKey {
  readonly streamId: string;
  readonly version: number;
}

/** BatchGetItem's limit of keys per request. */
const GET_BATCH = 100;

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
    /** Bounds this reader's Query requests in flight (StreamEvents); none for internal readers. */
    private readonly gate?: ConcurrencyGate,
    /**
     * A page that takes longer is abandoned as UNAVAILABLE. The SDK's requestTimeout only
     * logs a warning (unless throwOnRequestTimeout), so without this a stalled DynamoDB
     * would hold a read slot for ever. None for internal readers (replay pages are large).
     */
    private readonly pageTimeoutMs?: number,
  ) {}

  async *read(range: StreamRange, signal?: AbortSignal): AsyncGenerator<EventEnvelope> {
    if (range.lowVersion > range.highVersion) return;
    let remaining = range.limit ?? Number.POSITIVE_INFINITY;
    let start: Record<string, AttributeValue> | undefined;
    let first = true;
    do {
      if (signal?.aborted) return;
      const out = await this.query(range, remaining, start, signal, !first);
      first = false;
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
   * The events at these exact keys, by `streamId` then version; a key with no item is
   * absent from the result. BatchGetItem, 100 keys per request with strongly consistent
   * reads: the integrity auditor knows from the outbox which versions a stream gained, so
   * reading them costs a fraction of a request per event instead of a Query per stream.
   * Keys DynamoDB leaves unprocessed (throttling) are asked for again after a pause.
   */
  async getMany(keys: readonly EventKey[]): Promise<Map<string, Map<number, EventEnvelope>>> {
    const out = new Map<string, Map<number, EventEnvelope>>();
    for (let i = 0; i < keys.length; i += GET_BATCH) {
      let request: Record<string, AttributeValue>[] = keys
        .slice(i, i + GET_BATCH)
        .map((k) => ({ [KEY.partition]: { S: k.streamId }, [KEY.sort]: { N: String(k.version) } }));
      for (let attempt = 0; request.length > 0; attempt++) {
        if (attempt === 8) throw new DomainError('UNAVAILABLE', `the event store left ${request.length} keys unprocessed 8 times (throttled); retry later`, { dependency: 'dynamodb' });
        if (attempt > 0) await sleep(Math.min(1000, 25 * 2 ** attempt) * (0.5 + Math.random() / 2));
        const res = await this.client
          .send(new BatchGetItemCommand({ RequestItems: { [this.table]: { Keys: request, ConsistentRead: true } } }))
          .catch((err: Error) => {
            throw new DomainError('UNAVAILABLE', `the event store did not answer (${err.name}); retry later`, { dependency: 'dynamodb' });
          });
        this.stats.pages++;
        for (const item of res.Responses?.[this.table] ?? []) {
          const e = fromItem(item);
          this.stats.items++;
          let versions = out.get(e.streamId);
          if (versions === undefined) out.set(e.streamId, (versions = new Map()));
          versions.set(e.version, e);
        }
        request = res.UnprocessedKeys?.[this.table]?.Keys ?? [];
      }
    }
    return out;
  }

  /**
   * One Query page, in a slot of the gate when there is one. A failure of DynamoDB (a
   * timeout, a refused connection, throttling) is UNAVAILABLE: the caller may retry.
   */
  private async query(
    range: StreamRange,
    remaining: number,
    start: Record<string, AttributeValue> | undefined,
    signal: AbortSignal | undefined,
    admitted: boolean,
  ) {
    const release = await this.gate?.acquire(signal, admitted);
    try {
      return await this.send(range, remaining, start, signal);
    } catch (err) {
      if (signal?.aborted || err instanceof DomainError) throw err;
      const why = err instanceof PageTimeout ? `no answer within ${this.pageTimeoutMs} ms` : (err as Error).name;
      throw new DomainError('UNAVAILABLE', `the event store did not answer (${why}); retry later`, { dependency: 'dynamodb' });
    } finally {
      release?.();
    }
  }

  /**
   * The SDK leaves a listener on the abort signal it is given, so each page gets its own
   * short-lived signal tied to the caller's.
   */
  private async send(range: StreamRange, remaining: number, start: Record<string, AttributeValue> | undefined, signal?: AbortSignal) {
    const controller = new AbortController();
    const abort = () => controller.abort();
    signal?.addEventListener('abort', abort, { once: true });
    let timedOut = false;
    const timer =
      this.pageTimeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            controller.abort();
          }, this.pageTimeoutMs);
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
    } catch (err) {
      throw timedOut ? new PageTimeout() : err;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', abort);
    }
  }
}

class PageTimeout extends Error {
  override name = 'PageTimeout';
}
