import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { expect } from 'chai';
import { testDynamoClient } from '../support/dynamo.js';
import { freePort, spawnService } from '../support/process.js';
import { dynamoEndpoint, freshDatabase, freshTableName } from '../support/stack.js';

/**
 * NODE_ENV=production start-up refusals, through the real binary: a missing database
 * setting exits 2 naming it and starts nothing; a missing event table exits 1 naming
 * `make provision` and is not created.
 */
describe('production start-up refusals (e2e)', function () {
  this.timeout(60_000);
  let dataDir: string;
  // Whatever the test runner's own environment holds must not fill in a missing setting.
  const unset = { DATABASE_URL: '', DYNAMODB_ENDPOINT: '', AWS_REGION: '', AWS_DEFAULT_REGION: '' };

  before(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'inventory-prod-'));
  });
  after(() => rm(dataDir, { recursive: true, force: true }));

  const startAndWait = async (env: Record<string, string>) => {
    const service = spawnService({
      ...unset,
      NODE_ENV: 'production',
      DATA_DIR: dataDir,
      GRPC_PORT: String(await freePort()),
      EMBEDDED_POSTGRES_PORT: String(await freePort()),
      EMBEDDED_DYNAMODB_PORT: String(await freePort()),
      ...env,
    });
    const timer = setTimeout(() => service.child.kill('SIGKILL'), 45_000);
    const exit = await service.exited;
    clearTimeout(timer);
    return { ...exit, output: service.output() };
  };

  it('without any database setting exits 2 naming DATABASE_URL, DYNAMODB_ENDPOINT and AWS_REGION, and starts no embedded database', async () => {
    const r = await startAndWait({});
    expect(r.code, r.output).to.equal(2);
    expect(r.output).to.contain('NODE_ENV=production').and.contain('DATABASE_URL is unset');
    expect(r.output).to.contain('DYNAMODB_ENDPOINT is unset, which in production means AWS DynamoDB, and then AWS_REGION (or AWS_DEFAULT_REGION) must be set');
    expect(await readdir(dataDir)).to.deep.equal([]);
  });

  it('with DATABASE_URL but no region exits 2 naming AWS_REGION', async () => {
    const r = await startAndWait({ DATABASE_URL: await freshDatabase() });
    expect(r.code, r.output).to.equal(2);
    expect(r.output).to.contain('AWS_REGION').and.not.contain('DATABASE_URL is unset');
  });

  it('refuses a missing event table with a message naming `make provision`, exits 1 and does not create it', async () => {
    const table = freshTableName();
    const r = await startAndWait({ DATABASE_URL: await freshDatabase(), DYNAMODB_ENDPOINT: dynamoEndpoint(), AWS_REGION: 'eu-west-1', EVENTS_TABLE: table });
    expect(r.code, r.output).to.equal(1);
    expect(r.output).to.contain(`inventory service failed to start: the event table ${table} does not exist; create or fix it with \`make provision\``);
    expect(r.output, 'a refusal, not a crash').not.to.contain('    at ');
    const client = testDynamoClient();
    try {
      const described = await client.send(new DescribeTableCommand({ TableName: table })).then(
        () => 'exists',
        (err: Error) => err.name,
      );
      expect(described).to.equal('ResourceNotFoundException');
    } finally {
      client.destroy();
    }
    expect(await readdir(dataDir)).to.deep.equal([]);
  });
});
