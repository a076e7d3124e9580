import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { OutboxEvent } from '../../src/persistence/entities/outbox-event.entity.js';
import { openOrm } from '../../src/persistence/orm.js';
import { UnitOfWork } from '../../src/persistence/unit-of-work.js';
import { freshDatabase } from '../support/stack.js';

/** The unit of work writes a transaction's outbox rows in one statement (repositories/outbox-rows.ts). */
describe('outbox rows of a transaction (int)', () => {
  let orm: MikroORM;
  const ctx = { correlationId: 'corr-1', actor: 'tester', actsForOthers: false };
  const now = new Date('2026-12-07T10:00:00.123Z');

  before(async () => {
    orm = await openOrm({ url: await freshDatabase(), poolMin: 0 });
  });
  after(() => orm.close());

  it('stores every recorded event as recorded, with ids in the order they were recorded, and hands the listeners those ids', async () => {
    const uow = new UnitOfWork({ clock: () => now, newId: randomUUID });
    const heard: OutboxEvent[] = [];
    uow.onCommit((rows) => heard.push(...rows));
    const other = { correlationId: 'corr-2', actor: 'batch-caller', actsForOthers: false };
    await uow.run(orm.em.fork(), ctx, async (tx) => {
      // Recorded out of stream order on purpose: ids (and feed positions) follow the recording.
      tx.record('stock#B#W1', 2, { type: 'ItemCreated', data: { sku: 'B', name: 'quote " and \\ backslash', description: 'ü, 😀' } });
      tx.record('stock#A#W1', 1, { type: 'ItemCreated', data: { sku: 'A', name: 'a', description: '' } }, other);
      tx.record('stock#B#W1', 3, { type: 'ItemCreated', data: { sku: 'B', name: 'b', description: '' } });
    });
    expect(heard.map((r) => `${r.streamId} ${r.version}`)).to.deep.equal(['stock#B#W1 2', 'stock#A#W1 1', 'stock#B#W1 3']);
    const ids = heard.map((r) => r.id);
    expect(ids).to.deep.equal([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).to.equal(3);

    const stored = (await orm.em.fork().getConnection().execute(
      `select id, event_id, stream_id, version, type, schema_version, payload, correlation_id, actor, occurred_at, position, appended_at, trace_context
         from event_outbox order by id`,
    )) as Array<Record<string, unknown>>;
    expect(stored.map((r) => Number(r.id))).to.deep.equal(ids);
    expect(stored.map((r) => r.event_id)).to.deep.equal(heard.map((r) => r.eventId));
    expect(stored[0]).to.deep.include({
      stream_id: 'stock#B#W1',
      type: 'ItemCreated',
      schema_version: 1,
      payload: { sku: 'B', name: 'quote " and \\ backslash', description: 'ü, 😀' },
      correlation_id: 'corr-1',
      actor: 'tester',
      position: null,
      appended_at: null,
      trace_context: null,
    });
    expect(Number(stored[0]!.version)).to.equal(2);
    expect(new Date(String(stored[0]!.occurred_at)).toISOString()).to.equal(now.toISOString());
    expect(stored[1]).to.deep.include({ correlation_id: 'corr-2', actor: 'batch-caller' });
  });

  it('a transaction that records nothing writes no outbox row', async () => {
    const uow = new UnitOfWork({ clock: () => now, newId: randomUUID });
    const [{ n: before }] = (await orm.em.fork().getConnection().execute('select count(*)::int as n from event_outbox')) as [{ n: number }];
    await uow.run(orm.em.fork(), ctx, async () => undefined);
    const [{ n: after }] = (await orm.em.fork().getConnection().execute('select count(*)::int as n from event_outbox')) as [{ n: number }];
    expect(after).to.equal(before);
  });
});
