import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import pg from 'pg';
import type { Config } from '../config.js';
import { runningEmbeddedDynamo, startEmbeddedDynamo, type EmbeddedServer } from '../embedded/index.js';
import { createDynamoClient } from '../events/dynamo-appender.js';
import { sqlOf, type Sql } from '../events/replay/sql.js';
import type { Logger } from '../log.js';

/** Opens the configured event store (starting the embedded one when DYNAMODB_ENDPOINT is unset in development). */
export async function withEventStore<T>(config: Config, log: Logger, work: (client: DynamoDBClient) => Promise<T>): Promise<T> {
  let embedded: EmbeddedServer | undefined;
  let endpoint = config.dynamodb.endpoint;
  if (config.dynamodb.embedded) {
    const running = await runningEmbeddedDynamo(config);
    if (running !== undefined) {
      log.warn({ pid: running.pid }, 'attached to the embedded DynamoDB API of the running service');
      endpoint = running.address;
    } else {
      embedded = await startEmbeddedDynamo(config, log);
      endpoint = embedded.address;
    }
  }
  const client = createDynamoClient({ ...config.dynamodb, endpoint });
  try {
    return await work(client);
  } finally {
    client.destroy();
    await embedded?.stop();
  }
}

/** One PostgreSQL session (verify and rebuild keep a temporary table in it). */
export async function withSession<T>(url: string, work: (sql: Sql) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(sqlOf(client));
  } finally {
    await client.end();
  }
}
