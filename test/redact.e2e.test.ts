import net from 'node:net';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { expect } from 'chai';
import { ConfigError, loadConfig } from '../src/config.js';
import { createLoggerTo } from './support/log-capture.js';
import { openOrm } from '../src/persistence/orm.js';
import { redact } from '../src/redact.js';
import { spawnService } from './support/process.js';

const SECRET = 'S3cr3tPw';

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('credentials stay out of errors and logs (unit + real drivers)', function () {
  this.timeout(60_000);

  it('redacts URL passwords, key=value secrets and AWS key ids', () => {
    expect(redact(`postgress://inv:${SECRET}@db.internal:5432/inventory`)).to.equal('postgress://inv:***@db.internal:5432/inventory');
    expect(redact(`a postgresql://u:${SECRET}@h/x and b postgres://v:${SECRET}2@h2/y`)).to.not.contain(SECRET);
    expect(redact(`host=127.0.0.1 user=postgres password=${SECRET} application_name=x`)).to.equal('host=127.0.0.1 user=postgres password=*** application_name=x');
    expect(redact(`primary_conninfo = 'password=${SECRET}'`)).to.not.contain(SECRET);
    expect(redact('key AKIAIOSFODNN7EXAMPLE used')).to.equal('key AKIA**************** used');
    expect(redact('page_token: is not a token returned by this call')).to.equal('page_token: is not a token returned by this call');
    expect(redact('postgres://db.internal/inventory')).to.equal('postgres://db.internal/inventory');
  });

  it('configuration errors name the variable without echoing the password or a secret', () => {
    const err = (() => {
      try {
        loadConfig({ DATABASE_URL: `postgress://inv:${SECRET}@db/x`, PAGE_TOKEN_KEY: `short${SECRET}` });
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error('expected a ConfigError');
    })();
    expect(err).to.be.instanceOf(ConfigError);
    expect(err.message).to.contain('DATABASE_URL="postgress://inv:***@db/x"');
    expect(err.message).to.contain('PAGE_TOKEN_KEY=(hidden)');
    expect(err.message).to.not.contain(SECRET);
  });

  it('every log line is redacted, whatever was logged (driver and AWS errors included)', async () => {
    const { log, lines } = createLoggerTo();
    const url = `postgresql://inv:${SECRET}@127.0.0.1:${await closedPort()}/x`;
    const ormError = await openOrm({ url, poolMin: 0, poolMax: 1, connectTimeoutMs: 500 }).then(
      () => new Error('expected a failure'),
      (e: unknown) => e as Error,
    );
    log.error({ err: { message: ormError.message, stack: ormError.stack }, url }, `could not open ${url}`);
    const dynamo = new DynamoDBClient({
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${await closedPort()}`,
      credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: `wJalr${SECRET}EXAMPLEKEY` },
      maxAttempts: 1,
    });
    const awsError = await dynamo.send(new GetItemCommand({ TableName: 't', Key: { k: { S: 'x' } } })).then(
      () => new Error('expected a failure'),
      (e: unknown) => e as Error,
    );
    dynamo.destroy();
    log.warn({ err: awsError, config: { secretAccessKey: `wJalr${SECRET}EXAMPLEKEY` } }, 'dynamo failed');
    log.warn(`secretAccessKey=wJalr${SECRET}EXAMPLEKEY`);
    await new Promise((r) => setImmediate(r));
    expect(lines()).to.have.length(3);
    for (const line of lines()) expect(line).to.not.contain(SECRET);
    expect(lines()[0]).to.contain('postgresql://inv:***@127.0.0.1');
  });

  it('the service that cannot reach its database does not print the password', async () => {
    const proc = spawnService({ DATABASE_URL: `postgresql://inv:${SECRET}@127.0.0.1:${await closedPort()}/x`, DATABASE_CONNECT_TIMEOUT_MS: '500', GRPC_PORT: '0' });
    const exit = await proc.exited;
    expect(exit.code).to.not.equal(0);
    expect(proc.output()).to.not.contain(SECRET);
    const bad = spawnService({ DATABASE_URL: `postgress://inv:${SECRET}@db/x` });
    expect((await bad.exited).code).to.equal(2);
    expect(bad.output()).to.contain('DATABASE_URL="postgress://inv:***@db/x"');
    expect(bad.output()).to.not.contain(SECRET);
  });
});
