import path from 'node:path';
import { z } from 'zod';
import { securityConfigOf, securitySchema, type SecurityConfig } from './security-config.js';
import { EMBEDDED_DYNAMO_KINDS, type EmbeddedDynamoKind } from './embedded/dynamodb-kind.js';
import { redact } from './redact.js';
import { toTracingConfig, tracingSchema, type TracingConfig } from './observability/tracing-config.js';

export type { TracingConfig };

/**
 * The whole configuration, parsed once from the environment at start-up.
 * Every setting is documented in the README's configuration table.
 */
export interface Config {
  /** NODE_ENV. In production nothing is embedded and every database setting is required. */
  readonly environment: 'production' | 'development' | 'test';
  readonly grpc: { readonly host: string; readonly port: number };
  /** `/metrics` on the gRPC host; port 0 turns it off. */
  readonly metrics: { readonly port: number };
  /** OpenTelemetry traces from the OTEL_* variables; off unless an OTLP endpoint is set. */
  readonly tracing: TracingConfig;
  readonly dataDir: string;
  readonly database: {
    /** Unset: an embedded PostgreSQL under `${dataDir}/postgres`. */
    readonly url: string | undefined;
    readonly replicaUrls: readonly string[];
    /** The LISTEN sessions (cache invalidation, feed); undefined: `url`. A pooler in `url` cannot carry them. */
    readonly listenUrl: string | undefined;
    readonly embeddedPort: number;
    readonly poolMin: number;
    readonly poolMax: number;
    readonly connectTimeoutMs: number;
    readonly statementTimeoutMs: number;
    /** The hot statements as named prepared statements (off behind RDS Proxy or a transaction-mode PgBouncer). */
    readonly preparedStatements: boolean;
  };
  readonly dynamodb: {
    /**
     * Unset: the embedded DynamoDB API (dynalite) under `${dataDir}/dynamodb` in development,
     * AWS DynamoDB (the SDK's endpoint for `region`) in production.
     */
    readonly endpoint: string | undefined;
    /** True when this process starts the embedded DynamoDB API (development only). */
    readonly embedded: boolean;
    /** Which embedded server: DynamoDB Local when Java 17+ is found (auto), or dynalite. */
    readonly embeddedKind: EmbeddedDynamoKind;
    readonly embeddedPort: number;
    readonly region: string;
    readonly table: string;
  };
  readonly relay: {
    readonly intervalMs: number;
    readonly batchSize: number;
    readonly healthMaxAgeMs: number;
    /** Immediate-path requests start at least this far apart while commits come back to back (0: off); a full batch never waits. */
    readonly lingerMs: number;
    /** The same for the `appended_at` mark statements. */
    readonly markLingerMs: number;
  };
  readonly events: {
    /** Write a snapshot of a stream after every N-th event; 0 turns snapshots off. */
    readonly snapshotEvery: number;
    /** Events covered by a snapshot expire this many days later (DynamoDB TTL); 0 = never. */
    readonly retentionDays: number;
    /** Events per DynamoDB Query page when streaming a stream to a client. */
    readonly streamPageSize: number;
    /** StreamEvents: DynamoDB Query requests in flight per instance, and calls waiting for one. */
    readonly streamReadConcurrency: number;
    readonly streamReadQueue: number;
    /** StreamEvents calls streaming at once, and the longest wait for a place (docs/event-feed.md). */
    readonly streamActiveCalls: number;
    readonly streamQueueWaitMs: number;
  };
  readonly feed: {
    /** Appended rows of the global feed are kept this long, then pruned. */
    readonly retentionHours: number;
    /** Polling fallback of the sequencer and of subscriptions (LISTEN/NOTIFY wakes them sooner). */
    readonly pollMs: number;
    readonly pruneIntervalMs: number;
    readonly batchSize: number;
    /** Newest events kept in memory for subscribers (docs/event-feed.md). */
    readonly windowEvents: number;
    /** Events buffered per live subscriber before it is detached to read at its own pace. */
    readonly subscriberBuffer: number;
    /** Subscribers reading history from PostgreSQL at the same time, per instance. */
    readonly catchUpReaders: number;
    readonly maxSubscriptions: number;
  };
  readonly cache: {
    /** 0 turns the read cache off. */
    readonly maxEntries: number;
    readonly ttlMs: number;
    /** How often the LISTEN connection proves it is alive; a silent failure is noticed within about twice this. */
    readonly heartbeatMs: number;
    /** 0: no periodic hit/miss log line. */
    readonly statsIntervalMs: number;
  };
  /** A retry with the same idempotency key is recognised for at least this long. */
  readonly idempotency: { readonly retentionHours: number; readonly purgeIntervalMs: number };
  readonly allocation: { readonly batchMax: number; readonly batchConcurrency: number; readonly expirySweepIntervalMs: number };
  /** ImportStockCounts: rows applied per transaction (docs/stock-and-allocations.md "Bulk counts"). */
  readonly stockImport: { readonly batchRows: number };
  readonly ledger: { readonly partitionMonthsAhead: number; readonly partitionMaintenanceIntervalMs: number };
  /** The online integrity auditor (docs/integrity.md). */
  readonly audit: {
    readonly enabled: boolean;
    readonly intervalMs: number;
    readonly streamsPerSecond: number;
    readonly dynamoReadsPerSecond: number;
    readonly sweepStreamsPerSecond: number;
  };
  /**
   * The HMAC key of page tokens; every instance of a fleet must share it. Unset: a random
   * key per process, so tokens work only against the instance that made them, until it restarts.
   */
  readonly pageTokenKey: string | undefined;
  /** Readiness probes of PostgreSQL and the event table (docs/operations.md "Health"). */
  readonly health: { readonly probeIntervalMs: number; readonly probeTimeoutMs: number };
  readonly logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
  readonly shutdownTimeoutMs: number;
  /** TLS, authentication, authorization (docs/security.md). */
  readonly security: SecurityConfig;
}

export class ConfigError extends Error {}

const SECRET_VARIABLES = new Set(['PAGE_TOKEN_KEY']);

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

/** The region the embedded DynamoDB API is signed for in development; never used in production. */
export const DEVELOPMENT_REGION = 'us-east-1';

const schema = securitySchema.extend({
  NODE_ENV: z.enum(['production', 'development', 'test']).default('development'),
  GRPC_HOST: z.string().min(1).default('127.0.0.1'),
  GRPC_PORT: int(0, 65535).default(50051),
  METRICS_PORT: int(0, 65535).default(9464),
  DATA_DIR: z.string().min(1).default('.data'),
  DATABASE_URL: optionalString.refine((v) => v === undefined || /^postgres(ql)?:\/\//.test(v), {
    message: 'must be a postgres:// or postgresql:// URL',
  }),
  DATABASE_REPLICA_URLS: z
    .string()
    .default('')
    .transform((v) => v.split(',').map((s) => s.trim()).filter((s) => s !== ''))
    .refine((urls) => urls.every((u) => /^postgres(ql)?:\/\//.test(u)), {
      message: 'must be a comma-separated list of postgres:// URLs',
    }),
  DATABASE_LISTEN_URL: optionalString.refine((v) => v === undefined || /^postgres(ql)?:\/\//.test(v), {
    message: 'must be a postgres:// or postgresql:// URL',
  }),
  EMBEDDED_POSTGRES_PORT: int(1, 65535).default(54329),
  DATABASE_POOL_MIN: int(0, 1000).default(2),
  DATABASE_POOL_MAX: int(1, 1000).default(20),
  DATABASE_CONNECT_TIMEOUT_MS: int(100, 600_000).default(10_000),
  DATABASE_STATEMENT_TIMEOUT_MS: int(0, 3_600_000).default(30_000),
  DATABASE_PREPARED_STATEMENTS: z.enum(['true', 'false']).default('true'),
  DYNAMODB_ENDPOINT: optionalString.refine((v) => v === undefined || /^https?:\/\//.test(v), {
    message: 'must be an http:// or https:// URL',
  }),
  EMBEDDED_DYNAMODB: z.enum(EMBEDDED_DYNAMO_KINDS).default('auto'),
  EMBEDDED_DYNAMODB_PORT: int(1, 65535).default(4567),
  AWS_REGION: optionalString,
  AWS_DEFAULT_REGION: optionalString,
  EVENTS_TABLE: z
    .string()
    .regex(/^[a-zA-Z0-9_.-]{3,255}$/, 'must be 3-255 characters of a-z, A-Z, 0-9, _ . -')
    .default('inventory-events'),
  RELAY_INTERVAL_MS: int(10, 600_000).default(1000),
  RELAY_BATCH_SIZE: int(1, 10_000).default(200),
  RELAY_LINGER_MS: int(0, 1000).default(50),
  RELAY_MARK_LINGER_MS: int(0, 10_000).default(100),
  CACHE_MAX_ENTRIES: int(0, 10_000_000).default(100_000),
  CACHE_TTL_MS: int(1, 86_400_000).default(60_000),
  CACHE_HEARTBEAT_MS: int(100, 600_000).default(5_000),
  CACHE_STATS_INTERVAL_MS: int(0, 86_400_000).default(60_000),
  RELAY_HEALTH_MAX_AGE_MS: int(1000, 86_400_000).default(60_000),
  SNAPSHOT_EVERY: int(0, 1_000_000).default(100),
  EVENT_RETENTION_DAYS: int(0, 36_500).default(0),
  STREAM_PAGE_SIZE: int(1, 1000).default(500),
  FEED_RETENTION_HOURS: int(1, 87_600).default(168),
  FEED_POLL_MS: int(10, 600_000).default(1000),
  FEED_PRUNE_INTERVAL_MS: int(1000, 86_400_000).default(60_000),
  FEED_BATCH_SIZE: int(1, 10_000).default(500),
  FEED_WINDOW_EVENTS: int(100, 1_000_000).default(10_000),
  FEED_SUBSCRIBER_BUFFER: int(1, 100_000).default(500),
  FEED_CATCHUP_READERS: int(1, 100).default(4),
  MAX_SUBSCRIPTIONS: int(1, 1_000_000).default(10_000),
  STREAM_READ_CONCURRENCY: int(1, 1000).default(16),
  STREAM_READ_QUEUE: int(0, 1_000_000).default(1000),
  STREAM_ACTIVE_CALLS: int(1, 10_000).default(32),
  STREAM_QUEUE_WAIT_MS: int(0, 600_000).default(5000),
  IDEMPOTENCY_RETENTION_HOURS: int(1, 87_600).default(168),
  IDEMPOTENCY_PURGE_INTERVAL_MS: int(1000, 86_400_000).default(60_000),
  ALLOCATION_BATCH_MAX: int(1, 1000).default(64),
  STOCK_IMPORT_BATCH_ROWS: int(1, 5000).default(500),
  ALLOCATION_BATCH_CONCURRENCY: int(1, 100).default(4),
  EXPIRY_SWEEP_INTERVAL_MS: int(10, 600_000).default(1000),
  LEDGER_PARTITION_MONTHS_AHEAD: int(1, 120).default(3),
  LEDGER_PARTITION_MAINTENANCE_INTERVAL_MS: int(1000, 86_400_000).default(3_600_000),
  AUDIT_ENABLED: z.enum(['true', 'false']).default('true'),
  AUDIT_INTERVAL_MS: int(100, 600_000).default(1000),
  AUDIT_STREAMS_PER_SECOND: int(1, 100_000).default(200),
  AUDIT_DYNAMODB_READS_PER_SECOND: int(1, 100_000).default(200),
  AUDIT_SWEEP_STREAMS_PER_SECOND: int(0, 100_000).default(5),
  PAGE_TOKEN_KEY: optionalString.refine((v) => v === undefined || v.length >= 32, { message: 'must be at least 32 characters' }),
  HEALTH_PROBE_INTERVAL_MS: int(100, 600_000).default(1000),
  HEALTH_PROBE_TIMEOUT_MS: int(100, 600_000).default(2000),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  SHUTDOWN_TIMEOUT_MS: int(0, 600_000).default(10_000),
  ...tracingSchema,
});

/** Parses and validates the environment; throws ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => {
      const name = String(i.path[0] ?? '?');
      // A secret is never echoed; a URL is echoed without its password.
      const shown = SECRET_VARIABLES.has(name) ? '(hidden)' : JSON.stringify(redact(env[name] ?? ''));
      return `${name}=${shown}: ${i.message}`;
    });
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  const e = parsed.data;
  if (e.DATABASE_POOL_MIN > e.DATABASE_POOL_MAX) {
    throw new ConfigError(
      `invalid configuration: DATABASE_POOL_MIN=${e.DATABASE_POOL_MIN} is greater than DATABASE_POOL_MAX=${e.DATABASE_POOL_MAX}`,
    );
  }
  if (e.DATABASE_REPLICA_URLS.length > 0 && e.DATABASE_URL === undefined) {
    throw new ConfigError('invalid configuration: DATABASE_REPLICA_URLS needs DATABASE_URL (the primary)');
  }
  if (e.DATABASE_LISTEN_URL !== undefined && e.DATABASE_URL === undefined) {
    throw new ConfigError('invalid configuration: DATABASE_LISTEN_URL needs DATABASE_URL (the same database)');
  }
  const security = securityConfigOf(e, e.GRPC_HOST);
  if (typeof security === 'string') throw new ConfigError(`invalid configuration: ${security}`);
  const production = e.NODE_ENV === 'production';
  const region = e.AWS_REGION ?? e.AWS_DEFAULT_REGION;
  if (production) {
    // A deployment that forgot a setting must not come up "working" on the container's disk.
    const missing: string[] = [];
    if (e.DATABASE_URL === undefined) {
      missing.push('DATABASE_URL is unset (production never starts an embedded PostgreSQL)');
    }
    if (region === undefined) {
      missing.push(
        e.DYNAMODB_ENDPOINT === undefined
          ? 'DYNAMODB_ENDPOINT is unset, which in production means AWS DynamoDB, and then AWS_REGION (or AWS_DEFAULT_REGION) must be set'
          : 'AWS_REGION (or AWS_DEFAULT_REGION) is unset (the DynamoDB client signs every request for a region)',
      );
    }
    if (missing.length > 0) throw new ConfigError(`invalid configuration (NODE_ENV=production): ${missing.join('; ')}`);
  }
  return Object.freeze({
    security,
    environment: e.NODE_ENV,
    grpc: { host: e.GRPC_HOST, port: e.GRPC_PORT },
    metrics: { port: e.METRICS_PORT },
    tracing: toTracingConfig(e),
    dataDir: path.resolve(e.DATA_DIR),
    database: {
      url: e.DATABASE_URL,
      replicaUrls: e.DATABASE_REPLICA_URLS,
      listenUrl: e.DATABASE_LISTEN_URL,
      embeddedPort: e.EMBEDDED_POSTGRES_PORT,
      poolMin: e.DATABASE_POOL_MIN,
      poolMax: e.DATABASE_POOL_MAX,
      connectTimeoutMs: e.DATABASE_CONNECT_TIMEOUT_MS,
      statementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
      preparedStatements: e.DATABASE_PREPARED_STATEMENTS === 'true',
    },
    dynamodb: {
      endpoint: e.DYNAMODB_ENDPOINT,
      embedded: !production && e.DYNAMODB_ENDPOINT === undefined,
      embeddedKind: e.EMBEDDED_DYNAMODB,
      embeddedPort: e.EMBEDDED_DYNAMODB_PORT,
      region: region ?? DEVELOPMENT_REGION,
      table: e.EVENTS_TABLE,
    },
    relay: {
      intervalMs: e.RELAY_INTERVAL_MS,
      batchSize: e.RELAY_BATCH_SIZE,
      healthMaxAgeMs: e.RELAY_HEALTH_MAX_AGE_MS,
      lingerMs: e.RELAY_LINGER_MS,
      markLingerMs: e.RELAY_MARK_LINGER_MS,
    },
    events: {
      snapshotEvery: e.SNAPSHOT_EVERY,
      retentionDays: e.EVENT_RETENTION_DAYS,
      streamPageSize: e.STREAM_PAGE_SIZE,
      streamReadConcurrency: e.STREAM_READ_CONCURRENCY,
      streamReadQueue: e.STREAM_READ_QUEUE,
      streamActiveCalls: e.STREAM_ACTIVE_CALLS,
      streamQueueWaitMs: e.STREAM_QUEUE_WAIT_MS,
    },
    feed: {
      retentionHours: e.FEED_RETENTION_HOURS,
      pollMs: e.FEED_POLL_MS,
      pruneIntervalMs: e.FEED_PRUNE_INTERVAL_MS,
      batchSize: e.FEED_BATCH_SIZE,
      windowEvents: e.FEED_WINDOW_EVENTS,
      subscriberBuffer: e.FEED_SUBSCRIBER_BUFFER,
      catchUpReaders: e.FEED_CATCHUP_READERS,
      maxSubscriptions: e.MAX_SUBSCRIPTIONS,
    },
    cache: {
      maxEntries: e.CACHE_MAX_ENTRIES,
      ttlMs: e.CACHE_TTL_MS,
      heartbeatMs: e.CACHE_HEARTBEAT_MS,
      statsIntervalMs: e.CACHE_STATS_INTERVAL_MS,
    },
    idempotency: { retentionHours: e.IDEMPOTENCY_RETENTION_HOURS, purgeIntervalMs: e.IDEMPOTENCY_PURGE_INTERVAL_MS },
    stockImport: { batchRows: e.STOCK_IMPORT_BATCH_ROWS },
    allocation: {
      batchMax: e.ALLOCATION_BATCH_MAX,
      batchConcurrency: e.ALLOCATION_BATCH_CONCURRENCY,
      expirySweepIntervalMs: e.EXPIRY_SWEEP_INTERVAL_MS,
    },
    ledger: {
      partitionMonthsAhead: e.LEDGER_PARTITION_MONTHS_AHEAD,
      partitionMaintenanceIntervalMs: e.LEDGER_PARTITION_MAINTENANCE_INTERVAL_MS,
    },
    audit: {
      enabled: e.AUDIT_ENABLED === 'true',
      intervalMs: e.AUDIT_INTERVAL_MS,
      streamsPerSecond: e.AUDIT_STREAMS_PER_SECOND,
      dynamoReadsPerSecond: e.AUDIT_DYNAMODB_READS_PER_SECOND,
      sweepStreamsPerSecond: e.AUDIT_SWEEP_STREAMS_PER_SECOND,
    },
    pageTokenKey: e.PAGE_TOKEN_KEY,
    health: { probeIntervalMs: e.HEALTH_PROBE_INTERVAL_MS, probeTimeoutMs: e.HEALTH_PROBE_TIMEOUT_MS },
    logLevel: e.LOG_LEVEL,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
  });
}
