import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import pg from 'pg';
import { UniqueConstraintViolationException, type MikroORM } from '@mikro-orm/postgresql';
import { Item } from '../../src/persistence/entities/item.entity.js';
import type { OutboxEvent } from '../../src/persistence/entities/outbox-event.entity.js';
import { openOrm } from '../../src/persistence/orm.js';
import { UnitOfWork, type CallContext } from '../../src/persistence/unit-of-work.js';
import { freshDatabase } from '../support/stack.js';
import { sql } from '../support/stock.js';

interface OutboxRow {
  id: string;
  event_id: string;
  stream_id: string;
  version: string;
  type: string;
  schema_version: number;
  payload: unknown;
  correlation_id: string;
  actor: string;
  occurred_at: Date;
  position: string | null;
  appended_at: Date | null;
  trace_context: string | null;
}

/** The unit of work's outbox rows: written in its transaction, handed to the commit listeners as they are in the table. */
describe('unit of work: outbox rows (int)', () => {
  let url: string;
  let orm: MikroORM;
  const now = new Date('2026-11-25T10:00:00.123Z');
  const ctx: CallContext = { correlationId: 'corr-1', actor: 'alice', actsForOthers: false };
  const heard: OutboxEvent[][] = [];
  let uow: UnitOfWork;

  before(async () => {
    url = await freshDatabase();
    orm = await openOrm({ url, poolMin: 0, poolMax: 4 });
    uow = new UnitOfWork({ clock: () => now, newId: randomUUID });
    uow.onCommit((rows) => heard.push([...rows]));
  });
  after(() => orm.close());
  beforeEach(() => (heard.length = 0));

  const outbox = (streamPrefix: string) =>
    sql<OutboxRow>(url, `select * from event_outbox where stream_id like $1 order by id`, [`${streamPrefix}%`]);

  it('writes every recorded event in the transaction and hands the listeners the rows with their ids, in order', async () => {
    const payload = { sku: 'S-1', note: 'quote " backslash \\ brace } comma , unicode ü €', nested: { n: 1, list: [1, 'two', null] } };
    const bob: CallContext = { correlationId: 'corr-2', actor: 'bob', actsForOthers: false };
    const result = await uow.run(orm.em.fork(), ctx, async (tx) => {
      tx.record('item#A', 1, { type: 'ItemCreated', data: { sku: 'A', name: 'a', description: '' } });
      tx.record('stock#A#W1', 7, { type: 'StockReceived', data: payload as never }, bob);
      tx.record('item#B', 1, { type: 'ItemCreated', data: { sku: 'B', name: 'b', description: '' } });
      return 'done';
    });
    expect(result).to.equal('done');
    const rows = [...(await outbox('item#')), ...(await outbox('stock#'))].sort((a, b) => Number(a.id) - Number(b.id));
    expect(rows.map((r) => [r.stream_id, Number(r.version), r.type, r.actor, r.correlation_id])).to.deep.equal([
      ['item#A', 1, 'ItemCreated', 'alice', 'corr-1'],
      ['stock#A#W1', 7, 'StockReceived', 'bob', 'corr-2'],
      ['item#B', 1, 'ItemCreated', 'alice', 'corr-1'],
    ]);
    expect(rows[1]!.payload).to.deep.equal(payload);
    for (const r of rows) {
      expect(r.schema_version).to.equal(1);
      expect(new Date(r.occurred_at).toISOString()).to.equal(now.toISOString());
      expect(r.position).to.equal(null);
      expect(r.appended_at).to.equal(null);
      expect(r.trace_context).to.equal(null);
    }
    expect(heard).to.have.length(1);
    const given = heard[0]!;
    expect(given.map((e) => e.id)).to.deep.equal(rows.map((r) => Number(r.id)));
    expect(given.map((e) => e.eventId)).to.deep.equal(rows.map((r) => r.event_id));
    expect(given[1]!.payload).to.deep.equal(payload);
    expect(given[1]!).to.include({ streamId: 'stock#A#W1', version: 7, type: 'StockReceived', actor: 'bob', correlationId: 'corr-2', schemaVersion: 1, position: null, appendedAt: null, traceContext: null });
    expect(given[1]!.occurredAt.toISOString()).to.equal(now.toISOString());
  });

  it('a transaction that records nothing writes no outbox row and tells the listeners an empty list', async () => {
    await uow.run(orm.em.fork(), ctx, async () => undefined);
    expect(heard).to.deep.equal([[]]);
  });

  it('an outbox row that cannot be written rolls back the whole transaction and calls no listener', async () => {
    await uow.run(orm.em.fork(), ctx, async (tx) => tx.record('item#DUP', 1, { type: 'ItemCreated', data: { sku: 'DUP', name: 'd', description: '' } }));
    heard.length = 0;
    let err: (Error & { code?: string }) | undefined;
    await uow
      .run(orm.em.fork(), ctx, async (tx) => {
        tx.em.persist(new Item('DUP-OTHER', 'other', '', tx.now));
        // The same (stream, version) again: the outbox's unique key refuses it.
        tx.record('item#DUP', 1, { type: 'ItemCreated', data: { sku: 'DUP', name: 'd', description: '' } });
      })
      .catch((e: Error) => (err = e));
    expect(err?.code).to.equal('23505');
    expect(heard).to.deep.equal([]);
    expect(await sql(url, `select 1 from item where sku = 'DUP-OTHER'`)).to.deep.equal([]);
    expect(await outbox('item#DUP')).to.have.length(1);
  });

  it("entities are written before the outbox rows: a concurrent create's loser fails on its own row with the ORM's exception", async () => {
    // Another instance's create of the same item, holding both of its rows uncommitted.
    const other = new pg.Client({ connectionString: url });
    await other.connect();
    try {
      await other.query('begin');
      await other.query(`insert into item (sku, name, description, version, created_at, updated_at) values ('RACE-1', 'race', '', 1, now(), now())`);
      await other.query(
        `insert into event_outbox (event_id, stream_id, version, type, payload, correlation_id, occurred_at) values ($1, 'item#RACE-1', 1, 'ItemCreated', '{}', 'other', now())`,
        [randomUUID()],
      );
      const mine = uow
        .run(orm.em.fork(), ctx, async (tx) => {
          tx.em.persist(new Item('RACE-1', 'race', '', tx.now));
          tx.record('item#RACE-1', 1, { type: 'ItemCreated', data: { sku: 'RACE-1', name: 'race', description: '' } });
        })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      await new Promise((r) => setTimeout(r, 200)); // mine now waits on the other's uncommitted key
      await other.query('commit');
      // Had the outbox row gone first, this would be a bare pg error from the outbox's key.
      expect(await mine).to.be.instanceOf(UniqueConstraintViolationException);
      expect(heard).to.deep.equal([]);
      expect(await outbox('item#RACE-1')).to.have.length(1);
    } finally {
      await other.end();
    }
  });
});
