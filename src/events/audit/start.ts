import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import pg from 'pg';
import type { Config } from '../../config.js';
import type { Logger } from '../../log.js';
import { DynamoReader } from '../dynamo-reader.js';
import type { Sql } from '../replay/sql.js';
import { SnapshotStore } from '../snapshots.js';
import { IntegrityAuditor } from './auditor.js';
import { AdvisoryLease, AUDITOR_LOCK_KEY } from './lease.js';
import { IntegrityReports } from './report.js';

/**
 * Wires the auditor: a small pool of its own (two connections: its reads never queue behind
 * the calls' pool, and the stores speak plain `pg`), the advisory lease on a third, and the
 * report that every instance serves.
 */
export function startAuditor(
  config: Config,
  databaseUrl: string,
  dynamo: DynamoDBClient,
  log: Logger,
  clock: () => Date,
): { auditor: IntegrityAuditor | undefined; reports: IntegrityReports; stop(): Promise<void> } {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2, connectionTimeoutMillis: config.database.connectTimeoutMs });
  pool.on('error', (err) => log.warn({ err: err.message }, 'integrity audit connection failed'));
  const sql: Sql = { query: async <T>(text: string, params: readonly unknown[] = []) => (await pool.query(text, [...params])).rows as T[] };
  const reports = new IntegrityReports(sql, clock);
  const auditor = config.audit.enabled
    ? new IntegrityAuditor(
        { sql, reader: new DynamoReader(dynamo, config.dynamodb.table, 1000), snapshots: new SnapshotStore(dynamo, config.dynamodb.table), concurrency: 4 },
        new AdvisoryLease(databaseUrl, AUDITOR_LOCK_KEY, config.database.connectTimeoutMs),
        log.child({ job: 'integrity-audit' }),
        {
          intervalMs: config.audit.intervalMs,
          streamsPerSecond: config.audit.streamsPerSecond,
          dynamoReadsPerSecond: config.audit.dynamoReadsPerSecond,
          sweepStreamsPerSecond: config.audit.sweepStreamsPerSecond,
          confirmDelayMs: 250,
        },
        clock,
      )
    : undefined;
  return {
    auditor,
    reports,
    stop: async () => {
      await auditor?.stop();
      await pool.end();
    },
  };
}
