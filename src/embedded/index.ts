import path from 'node:path';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';

/** A database server this process started for development; stopped with the process. */
export interface EmbeddedServer {
  /** postgres:// URL or http:// endpoint. */
  readonly address: string;
  stop(): Promise<void>;
}

// The embedded servers are development dependencies (package.json devDependencies): they are
// imported only here, and only when a setting is unset, so a production install
// (`npm ci --omit=dev`) never loads them and does not need them.

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

/** Starts the embedded DynamoDB API under `${DATA_DIR}/dynamodb`. */
export async function startEmbeddedDynamo(config: Config, log: Logger): Promise<EmbeddedServer> {
  const { EmbeddedDynamo } = await import('./dynamodb.js');
  const dynamo = new EmbeddedDynamo({ dataDir: path.join(config.dataDir, 'dynamodb'), port: config.dynamodb.embeddedPort, log });
  await dynamo.start();
  return { address: dynamo.endpoint, stop: () => dynamo.stop() };
}
