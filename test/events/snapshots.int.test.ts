import { DeleteItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { expect } from 'chai';
import { startTestApp, type TestApp } from '../support/app.js';
import { readStream, testDynamoClient } from '../support/dynamo.js';
import { drained, expectClean, verify, rebuildIntoEmpty } from '../support/replay.js';
import { continueReplay } from '../../src/events/replay/replay-stream.js';
import { parseStreamId } from '../../src/events/streams.js';
import { StockState } from '../../src/gen/inventory/v1/stock_states.js';

describe('snapshots and TTL (int)', () => {
  let t: TestApp;
  let dynamo: ReturnType<typeof testDynamoClient>;
  const day = 86_400;
  before(async () => {
    dynamo = testDynamoClient();
    t = await startTestApp({ SNAPSHOT_EVERY: '5', EVENT_RETENTION_DAYS: '7' });
    await t.client.createWarehouse({ code: 'S1', name: 'Snap', region: 'eu', priority: 0 });
    for (let p = 1; p <= 11; p++) await t.client.updateWarehouse({ code: 'S1', priority: p }); // versions 2..12
    await t.client.createWarehouse({ code: 'S2', name: 'Small', region: 'eu', priority: 0 });
    await drained(t.app);
  });
  after(async () => {
    dynamo.destroy();
    await t.stop();
  });

  const snapshotVersions = async (streamId: string) => {
    const out = await dynamo.send(
      new QueryCommand({
        TableName: t.table,
        KeyConditionExpression: 'streamId = :s',
        ExpressionAttributeValues: { ':s': { S: `snapshot#${streamId}` } },
        ConsistentRead: true,
      }),
    );
    return (out.Items ?? []).map((i) => ({ version: Number(i.version?.N), state: JSON.parse(i.state?.S ?? 'null') as Record<string, unknown> }));
  };

  it('writes a snapshot of the stream after every N-th event', async () => {
    const snaps = await snapshotVersions('warehouse#S1');
    expect(snaps.map((s) => s.version)).to.deep.equal([5, 10]);
    expect(snaps[1]!.state).to.include({ code: 'S1', name: 'Snap', priority: 9, version: 10, active: true });
    expect(await snapshotVersions('warehouse#S2')).to.deep.equal([]);
  });

  it('gives only the events a snapshot covers a TTL, of about the retention', async () => {
    const events = await dynamo.send(
      new QueryCommand({
        TableName: t.table,
        KeyConditionExpression: 'streamId = :s',
        ExpressionAttributeValues: { ':s': { S: 'warehouse#S1' } },
        ConsistentRead: true,
      }),
    );
    const ttl = (events.Items ?? []).map((i) => (i.expiresAt?.N === undefined ? undefined : Number(i.expiresAt.N)));
    const now = Math.floor(Date.now() / 1000);
    for (const v of ttl.slice(0, 10)) expect(v).to.be.within(now + 7 * day - 120, now + 7 * day + 5);
    expect(ttl.slice(10)).to.deep.equal([undefined, undefined]);
  });

  it('replays exactly from the newest snapshot once the events it covers are gone', async () => {
    // What DynamoDB's TTL would do after the retention: delete versions 1..10.
    for (let v = 1; v <= 10; v++) {
      await dynamo.send(new DeleteItemCommand({ TableName: t.table, Key: { streamId: { S: 'warehouse#S1' }, version: { N: String(v) } } }));
    }
    expect((await readStream(t.table, 'warehouse#S1')).map((e) => e.version)).to.deep.equal([11, 12]);
    expectClean(await verify(t.databaseUrl, t.table));

    const { url, r } = await rebuildIntoEmpty(t.table);
    expectClean(await verify(url, t.table));
  });

  it('continues the next snapshots of a stream from memory, with the state a replay from its first event gives', async () => {
    // A stock stream written with every kind of change, in several relay batches: its first
    // snapshot is replayed from the store, the later ones continue from the events the relay
    // just appended (no read), and each must hold exactly what replaying the stream from
    // version 1 gives at its version.
    const c = t.client;
    const inMemoryBefore = t.app.events.snapshotter.continuedInMemory;
    await c.createWarehouse({ code: 'S3', name: 'Stock', region: 'eu', priority: 0 });
    await c.createItem({ sku: 'SNAP-1', name: 'Snap', description: '' });
    await c.receiveStock({ sku: 'SNAP-1', warehouseCode: 'S3', quantity: 100n, reference: 'po' });
    for (let i = 0; i < 6; i++) {
      await c.allocateStock({ allocationId: `snap-${i}`, lines: [{ sku: 'SNAP-1', quantity: 2n }] });
      if (i % 2 === 0) await c.fulfillAllocation({ allocationId: `snap-${i}` });
      else await c.releaseAllocation({ allocationId: `snap-${i}` });
      await c.adjustStock({ sku: 'SNAP-1', warehouseCode: 'S3', change: { $case: 'delta', value: -1n }, reason: 'count' });
      if (i % 3 === 0) {
        await c.moveStock({ sku: 'SNAP-1', warehouseCode: 'S3', fromState: StockState.STOCK_STATE_AVAILABLE, toState: StockState.STOCK_STATE_DAMAGED, quantity: 1n, reason: 'broken' });
      }
      await drained(t.app); // each round its own relay batches
    }
    const streamId = 'stock#SNAP-1#S3';
    const events = await readStream(t.table, streamId);
    expect(events.length).to.equal(21);
    const snaps = await snapshotVersions(streamId);
    expect(snaps.map((s) => s.version)).to.deep.equal([5, 10, 15, 20]);
    for (const snap of snaps) {
      const full = await continueReplay(streamId, parseStreamId(streamId)!, undefined, 0, false, events.filter((e) => e.version <= snap.version));
      expect(snap.state, `snapshot ${snap.version}`).to.deep.equal(JSON.parse(JSON.stringify(full.state)));
    }
    expect(t.app.events.snapshotter.continuedInMemory - inMemoryBefore, 'snapshots continued from memory').to.equal(3);
    expectClean(await verify(t.databaseUrl, t.table));
  });

  it('and says so when a snapshot is lost together with the events it covered', async () => {
    await dynamo.send(new DeleteItemCommand({ TableName: t.table, Key: { streamId: { S: 'snapshot#warehouse#S1' }, version: { N: '10' } } }));
    const r = await verify(t.databaseUrl, t.table);
    expect(r.sample).to.deep.equal(['warehouse#S1: version 6 is missing (next stored: 11)']);
  });
});
