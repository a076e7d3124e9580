import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { createDynamoClient, DynamoAppender } from '../../src/events/dynamo-appender.js';
import { ensureEventTable } from '../../src/events/table-check.js';
import type { EventEnvelope } from '../../src/events/types.js';
import { testDynamoKind } from '../support/dynamo-backend.js';
import { readStream, scanAll } from '../support/dynamo.js';
import { startDynamoFaultProxy, type DynamoFaultProxy } from '../support/dynamo-fault-proxy.js';
import { dynamoEndpoint, freshTableName, quietLog } from '../support/stack.js';

function events(n: number, stream = (i: number) => `item#BATCH-${Math.floor(i / 7)}`, version = (i: number) => (i % 7) + 1): EventEnvelope[] {
  return Array.from({ length: n }, (_, i) => ({
    eventId: randomUUID(),
    streamId: stream(i),
    version: version(i),
    type: 'ItemCreated' as const,
    schemaVersion: 1,
    correlationId: 'batch-test',
    occurredAt: new Date(),
    data: { sku: `BATCH-${i}`, name: `n${i}`, description: '' },
  }));
}

/**
 * The relay's appends (DynamoAppender.appendAll) on both backends: batched INSERTs on DynamoDB
 * Local, one PutItem per event on dynalite, with the same guarantee either way.
 */
describe('batched conditional appends (int)', function () {
  this.timeout(120_000);
  let proxy: DynamoFaultProxy;
  let client: ReturnType<typeof createDynamoClient>;
  let appender: DynamoAppender;
  let table: string;

  beforeEach(async () => {
    proxy = await startDynamoFaultProxy(dynamoEndpoint());
    client = createDynamoClient({ endpoint: proxy.endpoint, region: 'us-east-1', table: '' });
    table = freshTableName();
    appender = new DynamoAppender(client, table, quietLog);
    await ensureEventTable(client, table, quietLog);
  });
  afterEach(async () => {
    client.destroy();
    await proxy.close();
  });

  it('stores every event, 25 per request where the endpoint batches, and finds out which once', async () => {
    const batch = events(110);
    const r = await appender.appendAll(batch);
    expect(r.failed).to.equal(0);
    expect(new Set(r.done)).to.deep.equal(new Set(batch.map((e) => e.eventId)));
    const stored = await scanAll(table);
    expect(stored).to.have.length(110);
    expect(new Set(stored.map((e) => e.eventId))).to.deep.equal(new Set(batch.map((e) => e.eventId)));
    if ((await testDynamoKind()) === 'dynamodb-local') {
      expect(proxy.seen.BatchExecuteStatement).to.equal(5); // ceil(110 / 25)
      expect(proxy.seen.PutItem ?? 0).to.equal(0);
    } else {
      expect(proxy.seen.BatchExecuteStatement).to.equal(1); // the one that found it missing
      expect(proxy.seen.PutItem).to.equal(110);
      await appender.appendAll(events(3, (i) => `item#AGAIN-${i}`));
      expect(proxy.seen.BatchExecuteStatement).to.equal(1);
    }
  });

  it('the same events again are harmless; a different event at a taken version is a conflict, the rest still land', async () => {
    const first = events(40);
    expect((await appender.appendAll(first)).failed).to.equal(0);
    const impostor = { ...first[3]!, eventId: randomUUID() };
    const fresh = events(10, (i) => `item#FRESH-${i}`, () => 1);
    const r = await appender.appendAll([...first, impostor, ...fresh]);
    expect(r.failed).to.equal(1);
    expect(r.done).to.have.length(50);
    expect(r.done).to.not.include(impostor.eventId);
    const stream = await readStream(table, first[3]!.streamId);
    expect(stream.find((e) => e.version === impostor.version)?.eventId).to.equal(first[3]!.eventId); // never overwritten
    expect(await scanAll(table)).to.have.length(50);
  });

  it('two events of one stream version in one call go to different batches, and one of them wins', async () => {
    const a = events(1, () => 'item#TWICE', () => 1)[0]!;
    const b = { ...a, eventId: randomUUID() };
    const r = await appender.appendAll([a, b]);
    expect(r.done).to.deep.equal([a.eventId]);
    expect(r.failed).to.equal(1);
    expect((await readStream(table, 'item#TWICE')).map((e) => e.eventId)).to.deep.equal([a.eventId]);
  });

  it('backs off and retries a throttled or failing batch; what still fails is reported, never lost or doubled', async function () {
    if ((await testDynamoKind()) !== 'dynamodb-local') this.skip(); // the batched path only
    await appender.appendAll(events(1, () => 'item#WARM', () => 1)); // detection done
    proxy.failNext('BatchExecuteStatement', 3, { status: 400, type: 'ThrottlingException' });
    const throttled = events(30, (i) => `item#THR-${i}`, () => 1);
    const r = await appender.appendAll(throttled);
    expect(r.failed).to.equal(0);
    expect(r.done).to.have.length(30);

    proxy.failNext('BatchExecuteStatement', 1_000, { status: 500, type: 'InternalServerError' });
    const down = events(5, (i) => `item#DOWN-${i}`, () => 1);
    const failed = await appender.appendAll(down);
    expect(failed).to.deep.equal({ done: [], failed: 5 }); // the outbox keeps them for the relay's next pass
    proxy.failNext('BatchExecuteStatement', 0, { status: 500, type: 'InternalServerError' });
    expect((await appender.appendAll(down)).done).to.have.length(5);
    const stored = await scanAll(table);
    expect(stored).to.have.length(1 + 30 + 5);
    expect(new Set(stored.map((e) => `${e.streamId}/${e.version}`)).size).to.equal(36);
  });
});
