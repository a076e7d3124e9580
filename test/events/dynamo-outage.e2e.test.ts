import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { EmbeddedDynamoServer } from '../../src/embedded/dynamodb-choice.js';
import { newTestDynamo } from '../support/dynamo-backend.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { eventually } from '../support/dynamo.js';
import { freePort } from '../support/process.js';
import { createDynamoClient, fromItem } from '../../src/events/dynamo-appender.js';
import { QueryCommand } from '@aws-sdk/client-dynamodb';

describe('DynamoDB outage during writes (e2e)', function () {
  this.timeout(120_000);
  let dir: string;
  let port: number;
  let dynamo: EmbeddedDynamoServer;
  let t: TestApp;

  const readStream = async (streamId: string) => {
    const client = createDynamoClient({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', table: t.table });
    try {
      const out = await client.send(
        new QueryCommand({ TableName: t.table, KeyConditionExpression: 'streamId = :s', ExpressionAttributeValues: { ':s': { S: streamId } } }),
      );
      return (out.Items ?? []).map(fromItem);
    } finally {
      client.destroy();
    }
  };

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'inventory-dynamo-'));
    await chmod(dir, 0o755);
    port = await freePort();
    dynamo = await newTestDynamo({ dataDir: dir, port });
    await dynamo.start();
    t = await startTestApp({ DYNAMODB_ENDPOINT: `http://127.0.0.1:${port}`, RELAY_INTERVAL_MS: '100' });
  });
  after(async () => {
    await t?.stop();
    await dynamo.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('writes succeed while DynamoDB is down, and each event arrives exactly once when it is back', async () => {
    await t.client.createWarehouse({ code: 'WH-1', name: 'One', region: 'eu', priority: 1 });
    await eventually(async () => expect(await readStream('warehouse#WH-1')).to.have.length(1));
    // In DynamoDB is not yet marked appended in the outbox: wait for the mark too.
    await eventually(async () => expect((await t.app.relay.backlog()).count).to.equal(0));

    await dynamo.stop();
    const writes = [];
    for (let i = 1; i <= 5; i++) writes.push(await t.client.updateWarehouse({ code: 'WH-1', priority: 10 + i }));
    await t.client.createItem({ sku: 'DOWN-1', name: 'written while DynamoDB was down' });
    expect(writes.map((w) => w.warehouse!.version)).to.deep.equal([2n, 3n, 4n, 5n, 6n]);
    await t.app.relay.sweep();
    const backlog = await t.app.relay.backlog();
    expect(backlog.count).to.equal(6);
    expect(backlog.oldestAgeMs).to.be.greaterThan(0);

    dynamo = await newTestDynamo({ dataDir: dir, port });
    await dynamo.start();
    await eventually(async () => expect((await t.app.relay.backlog()).count).to.equal(0), 20_000);
    const stream = await readStream('warehouse#WH-1');
    expect(stream.map((e) => e.version)).to.deep.equal([1, 2, 3, 4, 5, 6]);
    expect(new Set(stream.map((e) => e.eventId)).size).to.equal(6);
    expect((stream[5]!.data as { changes: unknown }).changes).to.deep.equal({ priority: 15 });
    expect(await readStream('item#DOWN-1')).to.have.length(1);
  });
});
