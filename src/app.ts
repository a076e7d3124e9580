import { randomUUID } from 'node:crypto';
import { PageTokens } from './inventory/paging.js';
import { pageTokenKey } from './inventory/page-token-key.js';
import type { MikroORM } from '@mikro-orm/postgresql';
import { InvalidationListener } from './cache/invalidation-listener.js';
import { ReadCache } from './cache/read-cache.js';
import type { Config } from './config.js';
import { startEmbeddedDynamo, startEmbeddedPostgres } from './embedded/index.js';
import { createDynamoClient, DynamoAppender } from './events/dynamo-appender.js';
import { DynamoReader } from './events/dynamo-reader.js';
import { ConcurrencyGate } from './events/gate.js';
import { FeedListener } from './events/feed/listener.js';
import { FeedPages } from './events/feed/pages.js';
import { FeedPruner } from './events/feed/pruner.js';
import { FeedSequencer } from './events/feed/sequencer.js';
import { FeedSignal } from './events/feed/signal.js';
import { FeedReader } from './events/feed/subscription.js';
import { FeedTail } from './events/feed/tail.js';
import { StreamAdmission } from './events/stream-admission.js';
import { EventQueries } from './events/queries.js';
import { OutboxRelay } from './events/relay.js';
import type { IntegrityAuditor } from './events/audit/auditor.js';
import { startAuditor } from './events/audit/start.js';
import { checkEventTable, ensureEventTable } from './events/table-check.js';
import { CachedReads } from './inventory/cached-reads.js';
import { Snapshotter } from './events/snapshotter.js';
import { SnapshotStore } from './events/snapshots.js';
import { edgeSecurity } from './grpc/auth/index.js';
import { Readiness } from './grpc/readiness.js';
import { API_METHODS, INTEGRITY_HEALTH_NAME, RELAY_HEALTH_NAME, startGrpcServer, type GrpcServer } from './grpc/server.js';
import { DynamoProbe, PostgresProbe } from './health/probes.js';
import { AllocationService } from './inventory/allocations.js';
import { ExpirySweeper } from './inventory/expiry-sweeper.js';
import { IdempotencyPurger } from './inventory/idempotency-purger.js';
import { ItemService } from './inventory/items.js';
import { StockService } from './inventory/stock.js';
import { StockMoveService } from './inventory/stock-moves.js';
import { IncomingService } from './inventory/incoming.js';
import { StockImportService } from './inventory/stock-import.js';
import { WarehouseService } from './inventory/warehouses.js';
import type { Logger } from './log.js';
import { migrate, openOrm } from './persistence/orm.js';
import { StockMovementPartitions } from './persistence/partitions.js';
import { UnitOfWork } from './persistence/unit-of-work.js';
import { GrpcServerMetrics } from './grpc/metrics-interceptor.js';
import { registerHealthMetrics } from './observability/health-metrics.js';
import { instrumentComponents } from './observability/instrument.js';
import { registerIntegrityMetrics } from './observability/integrity-metrics.js';
import { startMetricsServer, type MetricsServer } from './observability/metrics-server.js';
import { createRegistry } from './observability/registry.js';
import { traceDynamo } from './observability/dynamo-tracing.js';
import { appendTracing, transactionTracing } from './observability/outbox-tracing.js';
import { startTracing } from './observability/tracing.js';

export interface App {
  readonly config: Config;
  readonly port: number;
  readonly orm: MikroORM;
  readonly relay: OutboxRelay;
  readonly appender: DynamoAppender;
  readonly grpc: GrpcServer;
  readonly cache: ReadCache;
  /** The cache's LISTEN connection; undefined when the cache is off. */
  readonly cacheListener: InvalidationListener | undefined;
  /** The event store's read side and the global feed (exposed for tests and tools). */
  readonly events: {
    readonly reader: DynamoReader;
    readonly snapshots: SnapshotStore;
    readonly snapshotter: Snapshotter;
    readonly sequencer: FeedSequencer;
    readonly pruner: FeedPruner;
    readonly feed: FeedReader;
    readonly feedTail: FeedTail;
    readonly feedPages: FeedPages;
    readonly signal: FeedSignal;
  };
  readonly allocations: AllocationService;
  readonly expirySweeper: ExpirySweeper;
  readonly partitions: StockMovementPartitions;
  /** The integrity auditor; undefined when AUDIT_ENABLED=false. */
  readonly auditor: IntegrityAuditor | undefined;
  readonly idempotencyPurger: IdempotencyPurger;
  /** The `/metrics` endpoint; undefined when METRICS_PORT is 0. */
  readonly metrics: MetricsServer | undefined;
  /** Graceful stop: NOT_SERVING, drain calls, flush the outbox, close pools, stop embedded servers. */
  stop(): Promise<void>;
}

export interface AppOptions {
  readonly clock?: () => Date;
  readonly newId?: () => string;
}

/** The composition root: config -> database -> event store -> use cases -> server. */
export async function startApp(config: Config, log: Logger, options: AppOptions = {}): Promise<App> {
  const cleanups: Array<() => Promise<void>> = [];
  const cleanup = async () => {
    for (const fn of cleanups.reverse()) await fn().catch((err: Error) => log.error({ err: err.message }, 'shutdown step failed'));
  };
  try {
    // First: a bad certificate, key, JWKS or policy stops start-up before anything runs.
    const security = edgeSecurity(config.security, config.grpc.host, API_METHODS, log);
    cleanups.push(async () => security.stop());
    let databaseUrl = config.database.url;
    if (databaseUrl === undefined) {
      const pg = await startEmbeddedPostgres(config, log);
      cleanups.push(() => pg.stop());
      databaseUrl = pg.address;
    }
    let dynamoEndpoint = config.dynamodb.endpoint;
    if (config.dynamodb.embedded) {
      const dynamo = await startEmbeddedDynamo(config, log);
      cleanups.push(() => dynamo.stop());
      dynamoEndpoint = dynamo.address;
    }
    const dynamoClient = createDynamoClient({ ...config.dynamodb, endpoint: dynamoEndpoint });
    cleanups.push(async () => dynamoClient.destroy());
    // Production uses the table `provision` made and refuses to start without it;
    // development creates it on the fly.
    if (config.environment === 'production') await checkEventTable(dynamoClient, config.dynamodb.table);
    else await ensureEventTable(dynamoClient, config.dynamodb.table, log);

    // Before the ORM opens: the pg instrumentation patches pg as knex loads it.
    const tracing = startTracing(config.tracing, log);
    if (tracing !== undefined) cleanups.push(() => tracing.shutdown());
    if (tracing !== undefined) traceDynamo(dynamoClient, tracing.tracer);
    const orm = await openOrm({ ...config.database, url: databaseUrl }, log);
    // LISTEN needs a session of its own: behind a transaction pooler it goes to the database directly.
    const listenUrl = config.database.listenUrl ?? databaseUrl;
    cleanups.push(() => orm.close());
    const applied = await migrate(orm);
    if (applied.length > 0) log.info({ migrations: applied }, 'applied migrations');
    const clock = options.clock ?? (() => new Date());
    const partitions = new StockMovementPartitions(orm, log, {
      monthsAhead: config.ledger.partitionMonthsAhead,
      intervalMs: config.ledger.partitionMaintenanceIntervalMs,
      clock,
    });
    await partitions.ensure();
    partitions.start();
    cleanups.push(() => partitions.stop());

    const appender = new DynamoAppender(dynamoClient, config.dynamodb.table, log);

    const uow = new UnitOfWork({
      clock,
      newId: options.newId ?? randomUUID,
      onListenerError: (err) => log.error({ err: (err as Error).message }, 'commit listener failed'),
      ...(tracing === undefined ? {} : { tracing: transactionTracing(tracing.tracer) }),
    });
    // StreamEvents shares a bounded number of Query requests, so a burst queues instead of
    // taking every connection from the relay.
    const streamReads = new ConcurrencyGate(
      config.events.streamReadConcurrency,
      config.events.streamReadQueue,
      `StreamEvents: ${config.events.streamReadQueue} calls already wait for one of this instance's ${config.events.streamReadConcurrency} event store reads (STREAM_READ_QUEUE, STREAM_READ_CONCURRENCY); retry later`,
    );
    const reader = new DynamoReader(dynamoClient, config.dynamodb.table, config.events.streamPageSize, streamReads, 10_000);
    // ...and a bounded number of calls streaming at once, so each runs at full speed and the rest are told to retry in time.
    const streamCalls = new StreamAdmission({
      activeCalls: config.events.streamActiveCalls,
      maxQueue: config.events.streamReadQueue,
      maxWaitMs: config.events.streamQueueWaitMs,
    });
    const snapshots = new SnapshotStore(dynamoClient, config.dynamodb.table);
    const snapshotter = new Snapshotter(
      new DynamoReader(dynamoClient, config.dynamodb.table, 100),
      snapshots,
      { every: config.events.snapshotEvery, retentionDays: config.events.retentionDays },
      clock,
    );
    const relay = new OutboxRelay(
      orm,
      appender,
      log,
      tracing === undefined ? config.relay : { ...config.relay, tracing: appendTracing(tracing.tracer) },
      snapshotter,
    );
    uow.onCommit(relay.committed);
    // The read cache: this instance's own commits invalidate at once (before the call
    // returns); every instance's commits arrive through LISTEN/NOTIFY.
    const cache = new ReadCache(config.cache);
    uow.onCommit((rows) => {
      try {
        for (const row of rows) cache.invalidateStream(row.streamId);
      } catch (err) {
        cache.clear(); // never leave an entry behind that a commit made stale
        throw err;
      }
    });
    let cacheListener: InvalidationListener | undefined;
    if (cache.enabled) {
      const listener = new InvalidationListener(cache, {
        url: listenUrl,
        connectTimeoutMs: config.database.connectTimeoutMs,
        heartbeatMs: config.cache.heartbeatMs,
        log,
      });
      cacheListener = listener;
      await listener.start();
      cleanups.push(() => listener.stop());
      if (config.cache.statsIntervalMs > 0) {
        const timer = setInterval(() => log.info({ cache: cache.stats() }, 'read cache'), config.cache.statsIntervalMs);
        timer.unref();
        cleanups.push(async () => clearInterval(timer));
      }
    }
    relay.start();
    cleanups.push(() => relay.stop(Math.max(1000, config.shutdownTimeoutMs / 2)));
    void relay.sweep(); // whatever a previous run left behind

    // The global feed: positions after commit, LISTEN/NOTIFY to wake subscriptions, pruning.
    const signal = new FeedSignal();
    // One tail reader per instance feeds every live subscriber (docs/event-feed.md).
    const feedPages = new FeedPages(orm);
    const feedTail = new FeedTail(feedPages, signal, log, { windowEvents: config.feed.windowEvents, pageSize: 500, pollMs: config.feed.pollMs });
    const sequencer = new FeedSequencer(orm, log, { batchSize: config.feed.batchSize, pollMs: config.feed.pollMs }, {
      committing: (last) => signal.committingLocally(last),
      sequenced: (last, events) => {
        feedTail.sequenced(events); // before the signal: the tail then has nothing left to read
        signal.advance(last);
      },
    });
    uow.onCommit((rows) => {
      // After the response is on its way: the caller need not wait for the feed's pass to start.
      if (rows.length > 0) setImmediate(sequencer.kick);
    });
    sequencer.start();
    cleanups.push(() => sequencer.stop());
    const listener = new FeedListener(listenUrl, signal, log);
    await listener.start();
    cleanups.push(() => listener.stop());
    const pruner = new FeedPruner(orm, log, {
      retentionHours: config.feed.retentionHours,
      intervalMs: config.feed.pruneIntervalMs,
      batchSize: 1000,
    });
    pruner.start();
    cleanups.push(() => pruner.stop());
    await feedTail.start();
    cleanups.push(() => feedTail.stop());
    const feed = new FeedReader(feedPages, feedTail, signal, new ConcurrencyGate(config.feed.catchUpReaders, Number.POSITIVE_INFINITY, 'feed catch-up'), {
      pageSize: 200,
      subscriberBuffer: config.feed.subscriberBuffer,
      maxSubscriptions: config.feed.maxSubscriptions,
    });

    // The online integrity auditor (one instance of the fleet at a time) and its report.
    const audit = startAuditor(config, databaseUrl, dynamoClient, log, clock);
    cleanups.push(() => audit.stop());

    const idempotencyPurger = new IdempotencyPurger(orm, log, {
      retentionHours: config.idempotency.retentionHours,
      intervalMs: config.idempotency.purgeIntervalMs,
      batchSize: 1000,
      clock,
    });
    idempotencyPurger.start();
    cleanups.push(() => idempotencyPurger.stop());

    const tokens = new PageTokens(pageTokenKey(config, log));
    const warehouses = new WarehouseService(uow, tokens);
    const items = new ItemService(uow, tokens);
    const stock = new StockService(uow, tokens);
    const allocations = new AllocationService(uow, config.allocation);
    // An import waits between batches while the relay holds more than two batches' events.
    const stockImport = new StockImportService(uow, { ...config.stockImport, pace: () => relay.roomFor(2 * config.stockImport.batchRows) });
    // Stops after the server has drained (cleanups run in reverse) and before the relay's last flush.
    const expirySweeper = new ExpirySweeper(orm, allocations, log, { intervalMs: config.allocation.expirySweepIntervalMs });
    cleanups.push(() => expirySweeper.stop());
    const registry = config.metrics.port > 0 ? createRegistry() : undefined;
    if (registry !== undefined) instrumentComponents(registry, { orm, dynamo: dynamoClient, uow, allocations, relay, snapshotter, cache });
    const closing = new AbortController();
    let readiness: Readiness | undefined;
    const grpc = await startGrpcServer(
      { orm, log, closing: closing.signal, onDependencyFault: (fault) => readiness?.reportFault(fault) },
      { warehouses, items, stock, allocations, stockImport, reads: new CachedReads(cache, items, warehouses, stock), stockMoves: new StockMoveService(uow), incoming: new IncomingService(uow, tokens) },
      config.grpc,
      { queries: new EventQueries(reader, feed, streamCalls), integrity: audit.reports },
      { metrics: registry && new GrpcServerMetrics(registry), tracer: tracing?.tracer, security },
    );
    cleanups.push(() => grpc.shutdown(config.shutdownTimeoutMs));
    // First step of a stop: end the open streams with UNAVAILABLE so the drain can finish.
    cleanups.push(async () => {
      closing.abort();
      signal.wakeAll();
    });
    relay.onBacklog((b) =>
      grpc.health.setStatus(RELAY_HEALTH_NAME, b.oldestAgeMs > config.relay.healthMaxAgeMs ? 'NOT_SERVING' : 'SERVING'),
    );
    audit.auditor?.onPass((stats) => grpc.health.setStatus(INTEGRITY_HEALTH_NAME, stats.openFindings > 0 ? 'NOT_SERVING' : 'SERVING'));
    audit.auditor?.start();
    let metrics: MetricsServer | undefined;
    if (registry !== undefined) {
      registerHealthMetrics(registry, grpc.health, ['', RELAY_HEALTH_NAME, INTEGRITY_HEALTH_NAME]);
      const auditor = audit.auditor;
      if (auditor !== undefined) registerIntegrityMetrics(registry, () => auditor.stats);
      const server = (metrics = await startMetricsServer(registry, { host: config.grpc.host, port: config.metrics.port }, log));
      cleanups.push(() => server.close());
    }
    expirySweeper.start();
    const ready = new Readiness(
      grpc.health,
      {
        postgresql: new PostgresProbe(databaseUrl, config.health.probeTimeoutMs),
        dynamodb: new DynamoProbe(dynamoClient, config.dynamodb.table, config.health.probeTimeoutMs),
      },
      log,
      { intervalMs: config.health.probeIntervalMs },
    );
    readiness = ready;
    await ready.start();
    cleanups.push(() => ready.stop());
    log.info({ address: `${config.grpc.host}:${grpc.port}` }, 'inventory service ready');

    let stopping: Promise<void> | undefined;
    return {
      config,
      port: grpc.port,
      orm,
      relay,
      appender,
      grpc,
      cache,
      cacheListener,
      events: { reader, snapshots, snapshotter, sequencer, pruner, feed, feedTail, feedPages, signal },
      allocations,
      expirySweeper,
      partitions,
      auditor: audit.auditor,
      idempotencyPurger,
      metrics,
      stop: () => {
        stopping ??= (async () => {
          await ready.stop();
          if (cache.enabled) log.info({ cache: cache.stats() }, 'read cache');
          await cleanup();
          log.info('inventory service stopped');
        })();
        return stopping;
      },
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
