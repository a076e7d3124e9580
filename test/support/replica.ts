import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { EmbeddedPostgres, prepareStandby } from '../../src/embedded/postgres.js';
import { migrate, openOrm } from '../../src/persistence/orm.js';
import { eventually } from './dynamo.js';
import { freePort } from './process.js';
import { quietLog } from './stack.js';

/**
 * A real primary and a real streaming standby of it, for read-replica tests: the primary
 * is initialised and migrated, stopped, its data directory copied and marked as a
 * standby, then both are started and the standby streams the primary's WAL.
 */
export interface ReplicaPair {
  readonly primaryUrl: string;
  readonly replicaUrl: string;
  /** Stops WAL replay on the standby: from now on it lags behind the primary. */
  pauseReplay(): Promise<void>;
  resumeReplay(): Promise<void>;
  stop(): Promise<void>;
}

export async function query<T extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

export async function startReplicaPair(): Promise<ReplicaPair> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'inventory-test-replica-'));
  await chmod(dir, 0o755); // the servers run as the postgres user when we are root
  const settings = { wal_level: 'replica', max_wal_senders: '4', hot_standby: 'on' };
  const primaryPort = await freePort();
  const primary = new EmbeddedPostgres({
    dataDir: path.join(dir, 'primary'),
    port: primaryPort,
    database: 'inventory',
    log: quietLog,
    settings,
  });
  let replica: EmbeddedPostgres | undefined;
  const stop = async () => {
    await replica?.stop();
    await primary.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await primary.start();
    const orm = await openOrm({ url: primary.url, poolMin: 0, poolMax: 2 });
    try {
      await migrate(orm);
    } finally {
      await orm.close();
    }
    await primary.stop();
    const replicaPort = await freePort();
    await prepareStandby({
      primaryDataDir: path.join(dir, 'primary'),
      standbyDataDir: path.join(dir, 'replica'),
      primaryPort,
    });
    await primary.start();
    replica = new EmbeddedPostgres({ dataDir: path.join(dir, 'replica'), port: replicaPort, database: 'inventory', log: quietLog, settings });
    await replica.start();
    const replicaUrl = replica.url;
    await eventually(async () => {
      const rows = await query<{ state: string }>(primary.url, `select state from pg_stat_replication where application_name = 'standby'`);
      if (rows[0]?.state !== 'streaming') throw new Error(`standby not streaming yet: ${JSON.stringify(rows)}`);
    }, 30_000);
    return {
      primaryUrl: primary.url,
      replicaUrl,
      pauseReplay: async () => {
        await query(replicaUrl, 'select pg_wal_replay_pause()');
      },
      resumeReplay: async () => {
        await query(replicaUrl, 'select pg_wal_replay_resume()');
      },
      stop,
    };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}
