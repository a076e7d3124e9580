import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { testDynamoKind } from './dynamo-backend.js';
import { createEmbeddedDynamo } from '../../src/embedded/dynamodb-choice.js';
import { EmbeddedPostgres } from '../../src/embedded/postgres.js';
import { freePort } from '../../src/embedded/processes.js';
import { createLogger } from '../../src/log.js';
import { migrate, openOrm } from '../../src/persistence/orm.js';

/**
 * The real databases every test runs against, started once per test run: an embedded
 * PostgreSQL and an in-memory DynamoDB API (DynamoDB Local, or dynalite with
 * EMBEDDED_DYNAMODB=dynalite; see dynamo-backend.ts), or the servers named by DATABASE_URL and
 * DYNAMODB_ENDPOINT. Each test file takes its own fresh database (a copy of a migrated
 * template) and its own event table.
 */
interface Stack {
  adminUrl: string;
  dynamoEndpoint: string;
  stop(): Promise<void>;
}

let stack: Stack | undefined;
let counter = 0;
const runId = `${process.pid}_${Date.now().toString(36)}`;
const TEMPLATE = `inv_template_${runId}`;
export const quietLog = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function admin<T>(work: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: stack!.adminUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * The suite's PostgreSQL on a port the OS just called free (TEST_PG_PORT fixes one). Another
 * process can still take it before the server binds it (a random port once collided with
 * a connection's local port): then it starts again on another, up to five times.
 */
async function startTestPostgres(dataDir: string): Promise<EmbeddedPostgres> {
  for (let attempt = 1; ; attempt++) {
    const port = process.env.TEST_PG_PORT === undefined ? await freePort() : Number(process.env.TEST_PG_PORT);
    const server = new EmbeddedPostgres({ dataDir, port, database: 'postgres', log: quietLog });
    try {
      await server.start();
      return server;
    } catch (err) {
      const taken = /Address already in use/.test((err as Error).message);
      if (!taken || attempt >= 5 || process.env.TEST_PG_PORT !== undefined) throw err;
    }
  }
}

export async function startStack(): Promise<void> {
  const stops: Array<() => Promise<void>> = [];
  let adminUrl = process.env.DATABASE_URL;
  if (adminUrl === undefined || adminUrl === '') {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'inventory-test-pg-'));
    await chmod(dir, 0o755); // the server runs as the postgres user when we are root
    const server = await startTestPostgres(path.join(dir, 'data'));
    stops.push(async () => {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    });
    adminUrl = server.url;
  }
  let dynamoEndpoint = process.env.DYNAMODB_ENDPOINT;
  if (dynamoEndpoint === undefined || dynamoEndpoint === '') {
    const dynamo = await createEmbeddedDynamo(await testDynamoKind(), { dataDir: undefined, port: 0, log: quietLog });
    await dynamo.start();
    stops.push(() => dynamo.stop());
    dynamoEndpoint = dynamo.endpoint;
  }
  stack = {
    adminUrl,
    dynamoEndpoint,
    stop: async () => {
      for (const s of stops.reverse()) await s();
    },
  };
  await admin((c) => c.query(`create database "${TEMPLATE}"`));
  const orm = await openOrm({ url: withDatabase(adminUrl, TEMPLATE), poolMin: 0, poolMax: 2 });
  try {
    await migrate(orm);
  } finally {
    await orm.close();
  }
}

export async function stopStack(): Promise<void> {
  if (!stack) return;
  const s = stack;
  if (process.env.DATABASE_URL) {
    // Leave a shared server as we found it.
    await admin(async (c) => {
      const dbs = await c.query<{ datname: string }>(`select datname from pg_database where datname like $1`, [`inv_%${runId}%`]);
      for (const { datname } of dbs.rows) await c.query(`drop database if exists "${datname}" with (force)`);
    }).catch(() => undefined);
  }
  stack = undefined;
  await s.stop();
}

export function dynamoEndpoint(): string {
  if (!stack) throw new Error('test stack not started');
  return stack.dynamoEndpoint;
}

export function adminUrl(): string {
  if (!stack) throw new Error('test stack not started');
  return stack.adminUrl;
}

/** A new database with every migration applied; returns its URL. */
export async function freshDatabase(): Promise<string> {
  const name = `inv_${runId}_${++counter}`;
  await admin((c) => c.query(`create database "${name}" template "${TEMPLATE}"`));
  return withDatabase(stack!.adminUrl, name);
}

/** An empty database (no migrations), for migration and rebuild tests. */
export async function emptyDatabase(): Promise<string> {
  const name = `inv_${runId}_${++counter}_empty`;
  await admin((c) => c.query(`create database "${name}"`));
  return withDatabase(stack!.adminUrl, name);
}

export function freshTableName(): string {
  return `events-${runId}-${++counter}`;
}
