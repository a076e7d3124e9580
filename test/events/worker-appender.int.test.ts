import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { createDynamoClient, DynamoAppender } from '../../src/events/dynamo-appender.js';
import { ensureEventTable } from '../../src/events/table-check.js';
import type { EventEnvelope } from '../../src/events/types.js';
import { WorkerAppender } from '../../src/events/worker-appender.js';
import { readStream } from '../support/dynamo.js';
import { dynamoEndpoint, freshTableName, quietLog } from '../support/stack.js';

function events(n: number, prefix: string): EventEnvelope[] {
  return Array.from({ length: n }, (_, i) => ({
    eventId: randomUUID(),
    streamId: `item#${prefix}-${Math.floor(i / 5)}`,
    version: (i % 5) + 1,
    type: 'ItemCreated' as const,
    schemaVersion: 1,
    correlationId: 'worker-test',
    occurredAt: new Date('2026-12-07T10:00:00.123Z'),
    data: { sku: `${prefix}-${i}`, name: `n${i}`, description: 'd' },
  }));
}

describe('RELAY_APPEND_WORKER: the appends on a worker thread (int)', function () {
  this.timeout(60_000);
  let table: string;
  let worker: WorkerAppender;

  before(async () => {
    table = freshTableName();
    const client = createDynamoClient({ endpoint: dynamoEndpoint(), region: 'us-east-1', table });
    await ensureEventTable(client, table, quietLog);
    client.destroy();
    worker = new WorkerAppender({ dynamo: { endpoint: dynamoEndpoint(), region: 'us-east-1', table }, logLevel: 'silent' }, quietLog);
  });
  after(async () => worker.close());

  it('stores what the appender on the main thread would, with the same guarantee (same event twice harmless, a different one a conflict)', async () => {
    const batch = events(60, 'WRK');
    const first = await worker.appendAll(batch);
    expect(first.failed).to.equal(0);
    expect([...first.done].sort()).to.deep.equal(batch.map((e) => e.eventId).sort());
    const stored = await readStream(table, 'item#WRK-3');
    expect(stored.map((e) => [e.version, e.eventId, e.occurredAt.toISOString()])).to.deep.equal(
      batch.slice(15, 20).map((e) => [e.version, e.eventId, '2026-12-07T10:00:00.123Z']),
    );

    const again = await worker.appendAll([batch[0]!, { ...batch[1]!, eventId: randomUUID() }]);
    expect(again).to.deep.equal({ done: [batch[0]!.eventId], failed: 1 });
    expect((await readStream(table, batch[1]!.streamId)).find((e) => e.version === batch[1]!.version)?.eventId).to.equal(batch[1]!.eventId);
  });

  it('an endpoint that does not answer fails the appends (counted, never lost) and the worker goes on', async () => {
    const dead = new WorkerAppender({ dynamo: { endpoint: 'http://127.0.0.1:9', region: 'us-east-1', table }, logLevel: 'silent' }, quietLog);
    try {
      const r = await dead.appendAll(events(3, 'DEAD'));
      expect(r).to.deep.equal({ done: [], failed: 3 });
    } finally {
      await dead.close();
    }
    const direct = new DynamoAppender(createDynamoClient({ endpoint: dynamoEndpoint(), region: 'us-east-1', table }), table, quietLog);
    expect((await direct.appendAll(events(2, 'ALIVE'))).failed).to.equal(0);
    direct.client.destroy();
  });
});
