import { CreateTableCommand, DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { expect } from 'chai';
import { eventTableDefinition } from '../../src/events/dynamo-schema.js';
import { checkEventTable, ensureEventTable, EventTableError, waitActive } from '../../src/events/table-check.js';
import { testDynamoClient } from '../support/dynamo.js';
import { startDynamoAnswers, type DynamoAnswers } from '../support/dynamo-answers.js';
import { dynamoEndpoint, freshTableName, quietLog } from '../support/stack.js';

describe('event table start-up check (int, embedded DynamoDB API)', () => {
  let client: DynamoDBClient;
  before(() => {
    client = testDynamoClient();
  });
  after(() => client.destroy());

  const refusal = async (c: DynamoDBClient, table: string): Promise<EventTableError> => {
    try {
      await checkEventTable(c, table);
    } catch (err) {
      if (err instanceof EventTableError) return err;
      throw err;
    }
    throw new Error('checkEventTable accepted the table');
  };
  const exists = (table: string) =>
    client.send(new DescribeTableCommand({ TableName: table })).then(
      () => true,
      (err: Error) => (err.name === 'ResourceNotFoundException' ? false : Promise.reject(err)),
    );

  it('refuses a missing table, naming it and `make provision`, and does not create it', async () => {
    const table = freshTableName();
    const err = await refusal(client, table);
    expect(err.message).to.contain(`the event table ${table} does not exist`).and.contain('make provision');
    expect(await exists(table)).to.equal(false);
  });

  it('refuses a table with another key schema', async () => {
    const table = freshTableName();
    await client.send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      }),
    );
    // dynalite keeps a new table CREATING for a while, and a table that is not ACTIVE is refused for that first.
    await waitActive(client, table);
    const err = await refusal(client, table);
    expect(err.message).to.contain('key schema is [id HASH S], expected [streamId HASH S, version RANGE N]').and.contain('make provision');
  });

  it('refuses a sort key of the wrong type', async () => {
    const table = freshTableName();
    const def = eventTableDefinition(table);
    await client.send(
      new CreateTableCommand({ ...def, AttributeDefinitions: [def.AttributeDefinitions[0]!, { AttributeName: 'version', AttributeType: 'S' }] }),
    );
    await waitActive(client, table);
    expect((await refusal(client, table)).message).to.contain('version RANGE S');
  });

  it('accepts the table ensureEventTable (development) creates', async () => {
    const table = freshTableName();
    await ensureEventTable(client, table, quietLog);
    await ensureEventTable(client, table, quietLog); // idempotent
    await checkEventTable(client, table);
  });

  describe('a table that is not ACTIVE (answers real AWS gives, scripted in front of the real API)', () => {
    let answers: DynamoAnswers;
    let proxied: DynamoDBClient;
    before(async () => {
      answers = await startDynamoAnswers(dynamoEndpoint());
    });
    after(async () => {
      proxied?.destroy();
      await answers?.close();
    });
    it('refuses it and says so', async () => {
      const table = freshTableName();
      answers.answer('DescribeTable', {
        status: 200,
        body: { Table: { ...eventTableDefinition(table), TableStatus: 'UPDATING' } },
      });
      proxied = testDynamoClient(answers.endpoint);
      expect((await refusal(proxied, table)).message).to.contain(`the event table ${table} is UPDATING, not ACTIVE`);
    });
  });
});
