import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { FeedLag } from '../events/feed-lag.js';
import type { OutboxRelay } from '../events/relay.js';
import type { Snapshotter } from '../events/snapshotter.js';

const THROTTLED = new Set(['ProvisionedThroughputExceededException', 'ThrottlingException', 'RequestLimitExceeded']);

/** A bounded outcome for a DynamoDB request (error names come from the SDK's fixed set). */
export function dynamoOutcome(err: unknown): string {
  if (err === undefined) return 'ok';
  const name = (err as { name?: unknown }).name;
  if (typeof name === 'string' && THROTTLED.has(name)) return 'throttled';
  if (name === 'ConditionalCheckFailedException') return 'conditional_check_failed';
  if (name === 'TransactionCanceledException') return 'transaction_canceled';
  return 'error';
}

/**
 * Counts every DynamoDB request attempt by operation and outcome. The middleware sits in
 * the deserialize step, inside the SDK's retry loop, so a throttled attempt that a retry
 * then fixes is still counted as throttled.
 */
export function registerDynamoMetrics(registry: Registry, client: DynamoDBClient): void {
  const requests = new Counter({
    name: 'inventory_dynamodb_requests_total',
    help: 'DynamoDB request attempts by operation and outcome (ok, throttled, conditional_check_failed, transaction_canceled, error).',
    labelNames: ['operation', 'outcome'],
    registers: [registry],
  });
  const seconds = new Histogram({
    name: 'inventory_dynamodb_request_seconds',
    help: 'DynamoDB request attempt latency by operation.',
    labelNames: ['operation'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const operation = (context.commandName ?? 'Unknown').replace(/Command$/, '');
      const started = process.hrtime.bigint();
      let failure: unknown;
      try {
        return await next(args);
      } catch (err) {
        failure = err ?? new Error('unknown');
        throw err;
      } finally {
        requests.inc({ operation, outcome: dynamoOutcome(failure) });
        seconds.observe({ operation }, Number(process.hrtime.bigint() - started) / 1e9);
      }
    },
    { step: 'deserialize', name: 'inventoryMetrics', override: true },
  );
}

/**
 * One database reading shared by the gauges of one scrape (prom-client collects them
 * concurrently). A failed reading keeps the gauges' last values: a scrape must not fail
 * because PostgreSQL does (the pool and error metrics tell that story).
 */
function shared<T>(read: () => Promise<T>): () => Promise<T | undefined> {
  let pending: Promise<T | undefined> | undefined;
  return () =>
    (pending ??= read()
      .catch(() => undefined)
      .finally(() => (pending = undefined)));
}

export interface EventPathSources {
  readonly relay: OutboxRelay;
  readonly snapshotter: Snapshotter;
  /** Read at scrape time. */
  readonly feedLag: () => Promise<FeedLag>;
}

/** The outbox → DynamoDB path and the global feed. */
export function registerEventPathMetrics(registry: Registry, src: EventPathSources): void {
  const registers = [registry];
  const readBacklog = shared(() => src.relay.backlog());
  new Gauge({
    name: 'inventory_outbox_backlog_events',
    help: 'Events committed in PostgreSQL and not yet confirmed in DynamoDB.',
    registers,
    async collect() {
      const b = await readBacklog();
      if (b !== undefined) this.set(b.count);
    },
  });
  new Gauge({
    name: 'inventory_outbox_oldest_age_seconds',
    help: 'Age of the oldest event not yet confirmed in DynamoDB (0: none). Health goes NOT_SERVING above RELAY_HEALTH_MAX_AGE_MS.',
    registers,
    async collect() {
      const b = await readBacklog();
      if (b !== undefined) this.set(b.oldestAgeMs / 1000);
    },
  });
  const lag = new Histogram({
    name: 'inventory_event_append_lag_seconds',
    help: 'From the commit that recorded an event to its confirmed append in DynamoDB (immediate path and sweep).',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers,
  });
  const appended = new Counter({ name: 'inventory_events_appended_total', help: 'Events confirmed in DynamoDB and marked appended.', registers });
  src.relay.onAppended((rows) => {
    const now = Date.now();
    for (const r of rows) lag.observe(Math.max(0, now - r.occurredAt.getTime()) / 1000);
    appended.inc(rows.length);
  });
  const sweeps = new Counter({ name: 'inventory_relay_sweeps_total', help: 'Outbox sweeps completed (each ends with a backlog reading).', registers });
  src.relay.onBacklog(() => sweeps.inc());
  new Counter({
    name: 'inventory_snapshots_written_total',
    help: 'Stream snapshots written to DynamoDB.',
    registers,
    collect() {
      this.reset();
      this.inc(src.snapshotter.written);
    },
  });
  const readFeedLag = shared(src.feedLag);
  new Gauge({
    name: 'inventory_feed_unsequenced_events',
    help: 'Committed events still waiting for a global feed position.',
    registers,
    async collect() {
      const f = await readFeedLag();
      if (f !== undefined) this.set(f.count);
    },
  });
  new Gauge({
    name: 'inventory_feed_lag_seconds',
    help: 'Age of the oldest committed event without a feed position (0: the sequencer is caught up).',
    registers,
    async collect() {
      const f = await readFeedLag();
      if (f !== undefined) this.set(f.oldestAgeMs / 1000);
    },
  });
}
