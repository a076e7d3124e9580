import path from 'node:path';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { liveOwner, type Owner } from './owner.js';

/** A database server this process started for development; stopped with the process. */
export interface EmbeddedServer {
  /** postgres:// URL or http:// endpoint. */
  readonly address: string;
  stop(): Promise<void>;
}

// The embedded servers are development dependencies (package.json devDependencies): they are
// imported only here, and only when a setting is unset, so a production install
// (`npm ci --omit=dev`) never loads them and does not need them.

/**
 * The embedded servers a running service (`make run` with the same DATA_DIR) started, if
 * it is alive: operator commands attach to them rather than start their own (which would
 * fight the service for the port and the data directory).
 */
export const runningEmbeddedPostgres = (config: Config): Promise<Owner | undefined> => liveOwner(path.join(config.dataDir, 'postgres'));
export const runningEmbeddedDynamo = async (config: Config): Promise<Owner | undefined> =>
  (await liveOwner(path.join(config.dataDir, 'dynamodb-local'))) ?? (await liveOwner(path.join(config.dataDir, 'dynamodb')));

/** Starts the embedded PostgreSQL under `${DATA_DIR}/postgres`. */
export async function startEmbeddedPostgres(config: Config, log: Logger): Promise<EmbeddedServer> {
  const { EmbeddedPostgres } = await import('./postgres.js');
  const pg = new EmbeddedPostgres({
    dataDir: path.join(config.dataDir, 'postgres'),
    port: config.database.embeddedPort,
    database: 'inventory',
    log,
  });
  await pg.start();
  return { address: pg.url, stop: () => pg.stop() };
}

/**
 * Starts the embedded DynamoDB API as EMBEDDED_DYNAMODB says (auto: DynamoDB Local where
 * Java 17+ is found): DynamoDB Local under `${DATA_DIR}/dynamodb-local`, dynalite under
 * `${DATA_DIR}/dynamodb`. Their files differ (SQLite, LevelDB), so each keeps its own.
 */
export async function startEmbeddedDynamo(config: Config, log: Logger): Promise<EmbeddedServer> {
  const { createEmbeddedDynamo, resolveEmbeddedDynamo } = await import('./dynamodb-choice.js');
  const kind = await resolveEmbeddedDynamo(config.dynamodb.embeddedKind, log);
  const dynamo = await createEmbeddedDynamo(kind, {
    dataDir: path.join(config.dataDir, kind === 'dynamodb-local' ? 'dynamodb-local' : 'dynamodb'),
    port: config.dynamodb.embeddedPort,
    log,
    // A service runs long: the tiered JIT serves more once warm (dynamodb-local.ts).
    jit: 'throughput',
  });
  await dynamo.start();
  return { address: dynamo.endpoint, stop: () => dynamo.stop() };
}
