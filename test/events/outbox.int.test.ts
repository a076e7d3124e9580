import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { MikroORM } from '@mikro-orm/postgresql';
import { createDynamoClient, DynamoAppender, StreamConflictError } from '../../src/events/dynamo-appender.js';
import { OutboxRelay } from '../../src/events/relay.js';
import { ensureEventTable } from '../../src/events/table-check.js';
import { OutboxEvent } from '../../src/persistence/entities/outbox-event.entity.js';
import { Item } from '../../src/persistence/entities/item.entity.js';
import { openOrm } from '../../src/persistence/orm.js';
import { UnitOfWork } from '../../src/persistence/unit-of-work.js';
import { readStream } from '../support/dynamo.js';
import { dynamoEndpoint, freshDatabase, freshTableName, quietLog } from '../support/stack.js';

describe('outbox write path (int)', () => {
  let orm: MikroORM;
  let appender: DynamoAppender;
  let relay: OutboxRelay;
  let uow: UnitOfWork;
  let table: string;
  const ctx = { correlationId: 'test' };

  before(async () => {
    orm = await openOrm({ url: await freshDatabase(), poolMin: 0 });
    table = freshTableName();
    appender = new DynamoAppender(createDynamoClient({ endpoint: dynamoEndpoint(), region: 'us-east-1', table }), table, quietLog);
    await ensureEventTable(appender.client, table, quietLog);
    relay = new OutboxRelay(orm, appender, quietLog, { intervalMs: 60_000, batchSize: 50 });
    uow = new UnitOfWork({ clock: () => new Date('2026-11-25T10:00:00Z'), newId: randomUUID });
  });
  after(async () => {
    await relay.stop(1000);
    appender.client.destroy();
    await orm.close();
  });

  const createItem = (sku: string, fail = false) =>
    uow.run(orm.em.fork(), ctx, async (tx) => {
      tx.em.persist(new Item(sku, 'name', '', tx.now));
      tx.record(`item#${sku}`, 1, { type: 'ItemCreated', data: { sku, name: 'name', description: '' } });
      if (fail) throw new Error('boom after recording');
    });

  it('a rolled-back write leaves no outbox row, calls no commit listener and emits no event', async () => {
    const heard: number[] = [];
    uow.onCommit((events) => heard.push(events.length));
    await createItem('ROLLBACK-1', true).then(
      () => expect.fail('should throw'),
      (err: Error) => expect(err.message).to.equal('boom after recording'),
    );
    expect(heard).to.deep.equal([]);
    expect(await orm.em.fork().count(OutboxEvent, { streamId: 'item#ROLLBACK-1' })).to.equal(0);
    expect(await orm.em.fork().count(Item, { sku: 'ROLLBACK-1' })).to.equal(0);
    await relay.sweep();
    expect(await readStream(table, 'item#ROLLBACK-1')).to.deep.equal([]);
  });

  it('a committed write whose immediate append never ran (process died) is appended by the sweep, once', async () => {
    await createItem('CRASH-1'); // no listener appends it: as if the process died after commit
    const pending = await orm.em.fork().findOneOrFail(OutboxEvent, { streamId: 'item#CRASH-1' });
    expect(pending.appendedAt).to.equal(null);
    expect((await relay.backlog()).count).to.be.greaterThan(0);
    await relay.sweep();
    await relay.sweep(); // a second pass (or a second instance) changes nothing
    const events = await readStream(table, 'item#CRASH-1');
    expect(events).to.have.length(1);
    expect(events[0]).to.include({ eventId: pending.eventId, version: 1, type: 'ItemCreated', correlationId: 'test' });
    expect((await relay.backlog()).count).to.equal(0);
  });

  it('appending the same event twice is harmless; a different event at the same version is a conflict', async () => {
    const row = await orm.em.fork().findOneOrFail(OutboxEvent, { streamId: 'item#CRASH-1' });
    const envelope = {
      eventId: row.eventId,
      streamId: row.streamId,
      version: row.version,
      type: 'ItemCreated' as const,
      schemaVersion: 1,
      correlationId: 'test',
      occurredAt: row.occurredAt,
      data: row.payload as { sku: string; name: string; description: string },
    };
    await appender.append(envelope);
    let conflict: Error | undefined;
    await appender.append({ ...envelope, eventId: randomUUID() }).catch((err: Error) => (conflict = err));
    expect(conflict).to.be.instanceOf(StreamConflictError);
    expect(conflict?.message).to.match(/holds event/);
    expect(await readStream(table, 'item#CRASH-1')).to.have.length(1);
  });
});
