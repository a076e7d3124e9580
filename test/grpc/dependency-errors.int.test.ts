import http from 'node:http';
import net from 'node:net';
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  InternalServerError,
  ProvisionedThroughputExceededException,
  RequestLimitExceeded,
  ResourceNotFoundException,
  ThrottlingException,
} from '@aws-sdk/client-dynamodb';
import { status } from '@grpc/grpc-js';
import { MikroORM } from '@mikro-orm/postgresql';
import type { NodeHttpHandlerOptions } from '@smithy/node-http-handler';
import { expect } from 'chai';
import pg from 'pg';
import { classifyDependencyError } from '../../src/grpc/dependency-errors.js';
import { toServiceError } from '../../src/grpc/errors.js';
import { openOrm, ormOptions } from '../../src/persistence/orm.js';
import { startBlackhole } from '../support/tcp-proxy.js';
import { adminUrl, freshDatabase, quietLog } from '../support/stack.js';

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function caught(work: () => Promise<unknown>): Promise<unknown> {
  try {
    await work();
  } catch (err) {
    return err;
  }
  throw new Error('expected a failure');
}

async function pgClient(url: string, extra: pg.ClientConfig = {}): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, ...extra });
  await client.connect();
  return client;
}

/** An HTTP server answering every request like DynamoDB failing with `statusCode` and `type`. */
async function failingDynamo(statusCode: number, type: string): Promise<{ endpoint: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(statusCode, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': 'test' });
      res.end(JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message: `scripted ${type}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return { endpoint: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

const dynamo = (endpoint: string, handler: NodeHttpHandlerOptions = {}) =>
  new DynamoDBClient({
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 1000, requestTimeout: 2000, ...handler },
  });

const getItem = (client: DynamoDBClient) => client.send(new GetItemCommand({ TableName: 'none', Key: { pk: { S: 'x' } } }));

const meta = { httpStatusCode: 400, requestId: 'r', attempts: 1, totalRetryDelay: 0 };

describe('dependency error classifier (int: real pg, MikroORM and AWS SDK errors)', function () {
  this.timeout(60_000);
  let url: string;
  let orm: MikroORM;

  before(async () => {
    url = await freshDatabase();
    orm = await openOrm({ url, poolMin: 0, poolMax: 2 });
  });
  after(async () => orm.close());

  /** name -> [how the error is produced, the status the edge must answer] */
  const table: Array<[string, () => Promise<unknown>, status]> = [
    ['pg: connect to a closed port (ECONNREFUSED)', async () => caught(async () => pgClient(`postgresql://u:p@127.0.0.1:${await closedPort()}/x`)), status.UNAVAILABLE],
    [
      'pg: connect timeout against a silent port',
      async () => {
        const hole = await startBlackhole();
        try {
          return await caught(() => pgClient(`postgresql://u:p@127.0.0.1:${hole.port}/x`, { connectionTimeoutMillis: 200 }));
        } finally {
          await hole.close();
        }
      },
      status.UNAVAILABLE,
    ],
    [
      'pg: 57P01 terminated by the administrator',
      async () => {
        const c = await pgClient(url);
        c.on('error', () => undefined);
        const err = await caught(() => c.query('select pg_terminate_backend(pg_backend_pid())'));
        await c.end().catch(() => undefined);
        expect((err as { code?: string }).code).to.equal('57P01');
        return err;
      },
      status.UNAVAILABLE,
    ],
    [
      'pg: query on a client whose connection broke ("not queryable")',
      async () => {
        const c = await pgClient(url);
        c.on('error', () => undefined);
        await caught(() => c.query('select pg_terminate_backend(pg_backend_pid())'));
        const err = await caught(() => c.query('select 1'));
        await c.end().catch(() => undefined);
        return err;
      },
      status.UNAVAILABLE,
    ],
    [
      'pg: 53300 too many connections (role connection limit)',
      async () => {
        const admin = await pgClient(adminUrl());
        const role = `limited_${process.pid}`;
        try {
          await admin.query(`drop role if exists ${role}`);
          await admin.query(`create role ${role} login password 'pw' connection limit 0`);
          const u = new URL(url);
          u.username = role;
          u.password = 'pw';
          const err = await caught(() => pgClient(u.toString()));
          expect((err as { code?: string }).code).to.equal('53300');
          return err;
        } finally {
          await admin.query(`drop role if exists ${role}`);
          await admin.end();
        }
      },
      status.UNAVAILABLE,
    ],
    [
      'pg: 25006 write in a read-only transaction',
      async () => {
        const c = await pgClient(url);
        try {
          await c.query('set default_transaction_read_only = on');
          return await caught(() => c.query('create table t_read_only (id int)'));
        } finally {
          await c.end();
        }
      },
      status.UNAVAILABLE,
    ],
    [
      'pg: 08006 connection failure (the driver class)',
      async () => Object.assign(new pg.DatabaseError('connection failure', 0, 'error'), { code: '08006', severity: 'FATAL' }),
      status.UNAVAILABLE,
    ],
    [
      'pg: 57014 statement timeout',
      async () => {
        const c = await pgClient(url);
        try {
          await c.query('set statement_timeout = 20');
          return await caught(() => c.query('select pg_sleep(1)'));
        } finally {
          await c.end();
        }
      },
      status.DEADLINE_EXCEEDED,
    ],
    [
      'pg: 40001 serialization failure (the driver class)',
      async () => Object.assign(new pg.DatabaseError('could not serialize access', 0, 'error'), { code: '40001', severity: 'ERROR' }),
      status.ABORTED,
    ],
    [
      'pg: 42601 syntax error stays INTERNAL',
      async () => {
        const c = await pgClient(url);
        try {
          return await caught(() => c.query('selec 1'));
        } finally {
          await c.end();
        }
      },
      status.INTERNAL,
    ],
    [
      'MikroORM: 57P01 wrapped in a DriverException',
      async () => {
        const err = await caught(() => orm.em.fork().execute('select pg_terminate_backend(pg_backend_pid())'));
        expect((err as Error).name).to.equal('DriverException');
        return err;
      },
      status.UNAVAILABLE,
    ],
    [
      'MikroORM: the database is down (connection refused)',
      async () => {
        // The service's pool once the database has gone away: MikroORM connected lazily.
        const down = await MikroORM.init({ ...ormOptions({ url: `postgresql://u:p@127.0.0.1:${await closedPort()}/x`, poolMin: 0, poolMax: 1, connectTimeoutMs: 500 }), connect: false });
        try {
          return await caught(() => down.em.fork().execute('select 1'));
        } finally {
          await down.close();
        }
      },
      status.UNAVAILABLE,
    ],
    [
      'knex via MikroORM: pool acquire timeout',
      async () => {
        const small = await openOrm({ url, poolMin: 0, poolMax: 1, connectTimeoutMs: 300 });
        try {
          const em = small.em.fork();
          let release!: () => void;
          const held = new Promise<void>((r) => (release = r));
          const tx = em.transactional(async () => held);
          await new Promise((r) => setTimeout(r, 100));
          const err = await caught(() => small.em.fork().execute('select 1'));
          release();
          await tx;
          expect((err as Error).message).to.match(/^Knex: Timeout acquiring a connection/);
          return err;
        } finally {
          await small.close();
        }
      },
      status.UNAVAILABLE,
    ],
    [
      'MikroORM: unique violation stays INTERNAL (not a dependency fault)',
      async () => {
        const em = orm.em.fork();
        await em.execute('create table if not exists t_unique (id int primary key)');
        await em.execute('insert into t_unique values (1) on conflict do nothing');
        const err = await caught(() => em.execute('insert into t_unique values (1)'));
        expect((err as Error).name).to.equal('UniqueConstraintViolationException');
        return err;
      },
      status.INTERNAL,
    ],
    ['AWS SDK: closed port (ECONNREFUSED)', async () => caught(async () => getItem(dynamo(`http://127.0.0.1:${await closedPort()}`))), status.UNAVAILABLE],
    [
      'AWS SDK: connection timeout ("did not establish a connection")',
      async () => {
        // A name lookup that never answers: the socket never connects.
        const agent = new http.Agent({ lookup: () => undefined } as http.AgentOptions);
        try {
          const err = await caught(() => getItem(dynamo('http://never-resolves.test:9', { connectionTimeout: 200, httpAgent: agent })));
          expect((err as Error).message).to.contain('did not establish a connection');
          return err;
        } finally {
          agent.destroy();
        }
      },
      status.UNAVAILABLE,
    ],
    [
      'AWS SDK: request timeout against a silent server',
      async () => {
        const hole = await startBlackhole();
        try {
          return await caught(() => getItem(dynamo(`http://127.0.0.1:${hole.port}`, { requestTimeout: 200, throwOnRequestTimeout: true })));
        } finally {
          await hole.close();
        }
      },
      status.UNAVAILABLE,
    ],
    ...(
      [
        ['ProvisionedThroughputExceededException', 400, status.UNAVAILABLE],
        ['ThrottlingException', 400, status.UNAVAILABLE],
        ['RequestLimitExceeded', 400, status.UNAVAILABLE],
        ['InternalServerError', 500, status.UNAVAILABLE],
        ['ServiceUnavailable', 503, status.UNAVAILABLE],
        ['ResourceNotFoundException', 400, status.INTERNAL],
        ['ValidationException', 400, status.INTERNAL],
      ] as const
    ).map(([type, code, expected]): [string, () => Promise<unknown>, status] => [
      `AWS SDK: HTTP ${code} ${type} from the wire`,
      async () => {
        const server = await failingDynamo(code, type);
        try {
          return await caught(() => getItem(dynamo(server.endpoint)));
        } finally {
          await server.close();
        }
      },
      expected,
    ]),
    ['AWS SDK class: ProvisionedThroughputExceededException', async () => new ProvisionedThroughputExceededException({ message: 'x', $metadata: meta }), status.UNAVAILABLE],
    ['AWS SDK class: ThrottlingException', async () => new ThrottlingException({ message: 'x', $metadata: meta }), status.UNAVAILABLE],
    ['AWS SDK class: RequestLimitExceeded', async () => new RequestLimitExceeded({ message: 'x', $metadata: meta }), status.UNAVAILABLE],
    ['AWS SDK class: InternalServerError', async () => new InternalServerError({ message: 'x', $metadata: { ...meta, httpStatusCode: 500 } }), status.UNAVAILABLE],
    ['AWS SDK class: ResourceNotFoundException stays INTERNAL', async () => new ResourceNotFoundException({ message: 'x', $metadata: meta }), status.INTERNAL],
    ['AWS SDK class: ConditionalCheckFailedException stays INTERNAL', async () => new ConditionalCheckFailedException({ message: 'x', $metadata: meta }), status.INTERNAL],
    ['wrapped: an Error whose cause is ECONNRESET', async () => new Error('append failed', { cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }) }), status.UNAVAILABLE],
    ['unknown: a plain Error stays INTERNAL', async () => new Error('secret table name in here'), status.INTERNAL],
    ['unknown: a message that only looks like a connection error stays INTERNAL', async () => new Error('Connection terminated unexpectedly by the user code'), status.INTERNAL],
  ];

  for (const [name, produce, expected] of table) {
    it(`${name} -> ${status[expected]}`, async () => {
      const err = await produce();
      const e = toServiceError(err, quietLog);
      expect(e.code, `${String((err as Error).name)}: ${String((err as Error).message)}`).to.equal(expected);
      if (expected === status.INTERNAL) {
        expect(classifyDependencyError(err)).to.equal(undefined);
        expect(e.details).to.equal('internal error; see the service log');
      }
    });
  }
});
