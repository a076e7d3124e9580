import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CreateTableCommand, DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { expect } from 'chai';
import { eventTableDefinition } from '../../src/events/dynamo-schema.js';
import { provisionTable, type StepResult } from '../../src/events/provision.js';
import { checkEventTable } from '../../src/events/table-check.js';
import { testDynamoClient } from '../support/dynamo.js';
import { awsError, startDynamoAnswers, type DynamoAnswers } from '../support/dynamo-answers.js';
import { dynamoEndpoint, freshTableName } from '../support/stack.js';
import { testDynamoKind } from '../support/dynamo-backend.js';

const run = promisify(execFile);

describe('provision (int, embedded DynamoDB API)', () => {
  let client: DynamoDBClient;
  before(() => {
    client = testDynamoClient();
  });
  after(() => client.destroy());

  const provision = async (c: DynamoDBClient, table: string) => {
    const lines: string[] = [];
    const results = await provisionTable(c, table, (l) => lines.push(l));
    const outcome = Object.fromEntries(results.map((r: StepResult) => [r.step, r.outcome]));
    return { results, lines, outcome };
  };
  const describe_ = async (table: string) => (await client.send(new DescribeTableCommand({ TableName: table }))).Table!;

  it('creates a missing table on-demand, which the production check then accepts; TTL where the endpoint has it (DynamoDB Local), PITR on neither emulator', async () => {
    const table = freshTableName();
    const { outcome, lines } = await provision(client, table);
    const ttl = (await testDynamoKind()) === 'dynalite' ? 'unsupported' : 'done';
    expect(outcome).to.deep.equal({ table: 'done', billing: 'unchanged', ttl, pitr: 'unsupported' });
    expect(lines[0]).to.equal(`table: created ${table} with on-demand capacity (PAY_PER_REQUEST)`);
    if (ttl === 'unsupported') expect(lines[2]).to.match(/^ttl: not supported by this endpoint \(UnknownOperationException/);
    else expect(lines[2]).to.match(/^ttl: .*expiresAt/);
    expect(lines[3]).to.match(/^pitr: not supported by this endpoint \(UnknownOperationException/);
    expect((await describe_(table)).BillingModeSummary?.BillingMode).to.equal('PAY_PER_REQUEST');
    await checkEventTable(client, table);
    expect((await provision(client, table)).outcome).to.include({ table: 'unchanged', billing: 'unchanged' });
  });

  it('switches an existing table with provisioned capacity to on-demand and says from what', async () => {
    const table = freshTableName();
    const { BillingMode: _, ...def } = eventTableDefinition(table);
    await client.send(new CreateTableCommand({ ...def, ProvisionedThroughput: { ReadCapacityUnits: 7, WriteCapacityUnits: 3 } }));
    expect((await describe_(table)).BillingModeSummary?.BillingMode ?? 'PROVISIONED').to.equal('PROVISIONED');
    const { outcome, lines } = await provision(client, table);
    expect(outcome).to.include({ table: 'unchanged', billing: 'done' });
    expect(lines).to.include('billing: switched from PROVISIONED (7 read / 3 write capacity units) to on-demand (PAY_PER_REQUEST)');
    const after = await describe_(table);
    expect(after.BillingModeSummary?.BillingMode).to.equal('PAY_PER_REQUEST');
    expect(after.TableStatus).to.equal('ACTIVE');
  });

  it('changes nothing on a table with another key schema and fails the table step', async () => {
    const table = freshTableName();
    await client.send(
      new CreateTableCommand({
        TableName: table,
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        ProvisionedThroughput: { ReadCapacityUnits: 1, WriteCapacityUnits: 1 },
      }),
    );
    const { results, lines } = await provision(client, table);
    expect(results.map((r) => r.step)).to.deep.equal(['table']);
    expect(lines[0]).to.match(/^table: FAILED: .* is not an event table: key schema is \[id HASH S\]/);
    expect((await describe_(table)).BillingModeSummary?.BillingMode ?? 'PROVISIONED').to.equal('PROVISIONED');
  });

  describe('failures real AWS reports (scripted in front of the real API)', () => {
    let answers: DynamoAnswers;
    before(async () => {
      answers = await startDynamoAnswers(dynamoEndpoint());
    });
    afterEach(() => answers.clear());
    after(() => answers.close());

    it('a refused step is FAILED, not "unsupported", and the other steps still run', async () => {
      const table = freshTableName();
      const { BillingMode: _, ...def } = eventTableDefinition(table);
      await client.send(new CreateTableCommand({ ...def, ProvisionedThroughput: { ReadCapacityUnits: 1, WriteCapacityUnits: 1 } }));
      answers.answer('UpdateTable', awsError('LimitExceededException', 'Subscriber limit exceeded: billing mode can be changed once per 24 hours'));
      answers.answer('UpdateTimeToLive', awsError('AccessDeniedException', 'not authorized to perform: dynamodb:UpdateTimeToLive'));
      answers.answer('DescribeContinuousBackups', {
        status: 200,
        body: { ContinuousBackupsDescription: { ContinuousBackupsStatus: 'ENABLED', PointInTimeRecoveryDescription: { PointInTimeRecoveryStatus: 'ENABLED' } } },
      });
      const c = testDynamoClient(answers.endpoint);
      try {
        const { outcome, lines } = await provision(c, table);
        expect(outcome).to.deep.equal({ table: 'unchanged', billing: 'failed', ttl: 'failed', pitr: 'unchanged' });
        expect(lines).to.include('billing: FAILED: LimitExceededException: Subscriber limit exceeded: billing mode can be changed once per 24 hours');
        expect(lines).to.include('ttl: FAILED: AccessDeniedException: not authorized to perform: dynamodb:UpdateTimeToLive');
        expect(lines).to.include('pitr: point-in-time recovery already enabled');
      } finally {
        c.destroy();
      }
    });

    it('TTL on another attribute is FAILED with the reason; TTL on expiresAt is left alone', async () => {
      const table = freshTableName();
      const c = testDynamoClient(answers.endpoint);
      try {
        answers.answer('DescribeTimeToLive', { status: 200, body: { TimeToLiveDescription: { TimeToLiveStatus: 'ENABLED', AttributeName: 'ttl' } } });
        expect((await provision(c, table)).lines).to.include(
          'ttl: FAILED: TTL is on ttl, the service writes expiresAt; disable it first (AWS allows one TTL change per hour)',
        );
        answers.answer('DescribeTimeToLive', { status: 200, body: { TimeToLiveDescription: { TimeToLiveStatus: 'ENABLED', AttributeName: 'expiresAt' } } });
        expect((await provision(c, table)).lines).to.include('ttl: already enabled on expiresAt');
      } finally {
        c.destroy();
      }
    });

    it('the CLI exits 1 when a step failed and 0 when only unsupported steps were skipped', async () => {
      const table = freshTableName();
      const env = { ...process.env, NODE_ENV: 'development', DYNAMODB_ENDPOINT: answers.endpoint, EVENTS_TABLE: table, LOG_LEVEL: 'silent' };
      answers.answer('UpdateTimeToLive', awsError('AccessDeniedException', 'not authorized'));
      const failed = await run(process.execPath, ['dist/src/admin/cli.js', 'provision'], { env }).then(
        () => undefined,
        (e: { code: number; stdout: string }) => e,
      );
      expect(failed?.code, failed?.stdout).to.equal(1);
      expect(failed?.stdout).to.contain('ttl: FAILED: AccessDeniedException').and.contain('provision: FAILED (ttl)');
      answers.clear();
      const ok = await run(process.execPath, ['dist/src/admin/cli.js', 'provision'], { env });
      const skipped = (await testDynamoKind()) === 'dynalite' ? 'ttl, pitr' : 'pitr';
      expect(ok.stdout).to.contain(`provision: done; not supported by this endpoint, skipped: ${skipped}`);
    });
  });
});
