import path from 'node:path';
import { z } from 'zod';
import { redact } from './redact.js';

/**
 * The whole configuration, parsed once from the environment at start-up.
 * Every setting is documented in the README's configuration table.
 */
export interface Config {
  readonly grpc: { readonly host: string; readonly port: number };
  readonly dataDir: string;
  readonly database: {
    /** Unset: an embedded PostgreSQL under `${dataDir}/postgres`. */
    readonly url: string | undefined;
    readonly replicaUrls: readonly string[];
    readonly embeddedPort: number;
    readonly poolMin: number;
    readonly poolMax: number;
    readonly connectTimeoutMs: number;
    readonly statementTimeoutMs: number;
  };
  readonly dynamodb: {
    /** Unset: an embedded DynamoDB API (dynalite) under `${dataDir}/dynamodb`. */
    readonly endpoint: string | undefined;
    readonly embeddedPort: number;
    readonly region: string;
    readonly table: string;
  };
  readonly relay: { readonly intervalMs: number; readonly batchSize: number; readonly healthMaxAgeMs: number };
  readonly events: {
    /** Write a snapshot of a stream after every N-th event; 0 turns snapshots off. */
    readonly snapshotEvery: number;
    /** Events covered by a snapshot expire this many days later (DynamoDB TTL); 0 = never. */
    readonly retentionDays: number;
    /** Events per DynamoDB Query page when streaming a stream to a client. */
    readonly streamPageSize: number;
  };
  readonly feed: {
    /** Appended rows of the global feed are kept this long, then pruned. */
    readonly retentionHours: number;
    /** Polling fallback of the sequencer and of subscriptions (LISTEN/NOTIFY wakes them sooner). */
    readonly pollMs: number;
    readonly pruneIntervalMs: number;
    readonly batchSize: number;
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
  readonly ledger: { readonly partitionMonthsAhead: number; readonly partitionMaintenanceIntervalMs: number };
  /**
   * The HMAC key of page tokens; every instance of a fleet must share it. Unset: a random
   * key per process, so tokens work only against the instance that made them, until it restarts.
   */
  readonly pageTokenKey: string | undefined;
  /** Readiness probes of PostgreSQL and the event table (docs/operations.md "Health"). */
  readonly health: { readonly probeIntervalMs: number; readonly probeTimeoutMs: number };
  readonly logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
  readonly shutdownTimeoutMs: number;
}

export class ConfigError extends Error {}

const SECRET_VARIABLES = new Set(['PAGE_TOKEN_KEY']);

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const schema = z.object({
  GRPC_HOST: z.string().min(1).default('127.0.0.1'),
  GRPC_PORT: int(0, 65535).default(50051),
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
  EMBEDDED_POSTGRES_PORT: int(1, 65535).default(54329),
  DATABASE_POOL_MIN: int(0, 1000).default(2),
  DATABASE_POOL_MAX: int(1, 1000).default(20),
  DATABASE_CONNECT_TIMEOUT_MS: int(100, 600_000).default(10_000),
  DATABASE_STATEMENT_TIMEOUT_MS: int(0, 3_600_000).default(30_000),
  DYNAMODB_ENDPOINT: optionalString.refine((v) => v === undefined || /^https?:\/\//.test(v), {
    message: 'must be an http:// or https:// URL',
  }),
  EMBEDDED_DYNAMODB_PORT: int(1, 65535).default(4567),
  AWS_REGION: z.string().min(1).default('us-east-1'),
  EVENTS_TABLE: z
    .string()
    .regex(/^[a-zA-Z0-9_.-]{3,255}$/, 'must be 3-255 characters of a-z, A-Z, 0-9, _ . -')
    .default('inventory-events'),
  RELAY_INTERVAL_MS: int(10, 600_000).default(1000),
  RELAY_BATCH_SIZE: int(1, 10_000).default(200),
  CACHE_MAX_ENTRIES: int(0, 10_000_000).default(100_000),
  CACHE_TTL_MS: int(1, 86_400_000).default(60_000),
  CACHE_HEARTBEAT_MS: int(100, 600_000).default(5_000),
  CACHE_STATS_INTERVAL_MS: int(0, 86_400_000).default(60_000),
  RELAY_HEALTH_MAX_AGE_MS: int(1000, 86_400_000).default(60_000),
  SNAPSHOT_EVERY: int(0, 1_000_000).default(100),
  EVENT_RETENTION_DAYS: int(0, 36_500).default(0),
  STREAM_PAGE_SIZE: int(1, 1000).default(100),
  FEED_RETENTION_HOURS: int(1, 87_600).default(168),
  FEED_POLL_MS: int(10, 600_000).default(1000),
  FEED_PRUNE_INTERVAL_MS: int(1000, 86_400_000).default(60_000),
  FEED_BATCH_SIZE: int(1, 10_000).default(500),
  IDEMPOTENCY_RETENTION_HOURS: int(1, 87_600).default(168),
  IDEMPOTENCY_PURGE_INTERVAL_MS: int(1000, 86_400_000).default(60_000),
  ALLOCATION_BATCH_MAX: int(1, 1000).default(64),
  ALLOCATION_BATCH_CONCURRENCY: int(1, 100).default(4),
  EXPIRY_SWEEP_INTERVAL_MS: int(10, 600_000).default(1000),
  LEDGER_PARTITION_MONTHS_AHEAD: int(1, 120).default(3),
  LEDGER_PARTITION_MAINTENANCE_INTERVAL_MS: int(1000, 86_400_000).default(3_600_000),
  PAGE_TOKEN_KEY: optionalString.refine((v) => v === undefined || v.length >= 32, { message: 'must be at least 32 characters' }),
  HEALTH_PROBE_INTERVAL_MS: int(100, 600_000).default(1000),
  HEALTH_PROBE_TIMEOUT_MS: int(100, 600_000).default(2000),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  SHUTDOWN_TIMEOUT_MS: int(0, 600_000).default(10_000),
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
  return Object.freeze({
    grpc: { host: e.GRPC_HOST, port: e.GRPC_PORT },
    dataDir: path.resolve(e.DATA_DIR),
    database: {
      url: e.DATABASE_URL,
      replicaUrls: e.DATABASE_REPLICA_URLS,
      embeddedPort: e.EMBEDDED_POSTGRES_PORT,
      poolMin: e.DATABASE_POOL_MIN,
      poolMax: e.DATABASE_POOL_MAX,
      connectTimeoutMs: e.DATABASE_CONNECT_TIMEOUT_MS,
      statementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
    },
    dynamodb: {
      endpoint: e.DYNAMODB_ENDPOINT,
      embeddedPort: e.EMBEDDED_DYNAMODB_PORT,
      region: e.AWS_REGION,
      table: e.EVENTS_TABLE,
    },
    relay: { intervalMs: e.RELAY_INTERVAL_MS, batchSize: e.RELAY_BATCH_SIZE, healthMaxAgeMs: e.RELAY_HEALTH_MAX_AGE_MS },
    events: { snapshotEvery: e.SNAPSHOT_EVERY, retentionDays: e.EVENT_RETENTION_DAYS, streamPageSize: e.STREAM_PAGE_SIZE },
    feed: {
      retentionHours: e.FEED_RETENTION_HOURS,
      pollMs: e.FEED_POLL_MS,
      pruneIntervalMs: e.FEED_PRUNE_INTERVAL_MS,
      batchSize: e.FEED_BATCH_SIZE,
    },
    cache: {
      maxEntries: e.CACHE_MAX_ENTRIES,
      ttlMs: e.CACHE_TTL_MS,
      heartbeatMs: e.CACHE_HEARTBEAT_MS,
      statsIntervalMs: e.CACHE_STATS_INTERVAL_MS,
    },
    idempotency: { retentionHours: e.IDEMPOTENCY_RETENTION_HOURS, purgeIntervalMs: e.IDEMPOTENCY_PURGE_INTERVAL_MS },
    allocation: {
      batchMax: e.ALLOCATION_BATCH_MAX,
      batchConcurrency: e.ALLOCATION_BATCH_CONCURRENCY,
      expirySweepIntervalMs: e.EXPIRY_SWEEP_INTERVAL_MS,
    },
    ledger: {
      partitionMonthsAhead: e.LEDGER_PARTITION_MONTHS_AHEAD,
      partitionMaintenanceIntervalMs: e.LEDGER_PARTITION_MAINTENANCE_INTERVAL_MS,
    },
    pageTokenKey: e.PAGE_TOKEN_KEY,
    health: { probeIntervalMs: e.HEALTH_PROBE_INTERVAL_MS, probeTimeoutMs: e.HEALTH_PROBE_TIMEOUT_MS },
    logLevel: e.LOG_LEVEL,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
  });
}
