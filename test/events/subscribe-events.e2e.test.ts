import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import pg from 'pg';
import type { EventServiceClient } from '../../src/gen/inventory/v1/event_service.js';
import type { Event } from '../../src/gen/inventory/v1/events.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { eventClient, Subscription, waitFor } from '../support/events.js';

const positions = (events: Event[]) => events.map((e) => Number(e.position));
const consecutive = (ps: number[], from: number) => ps.every((p, i) => p === from + i);

async function outboxIds(url: string): Promise<string[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<{ event_id: string }>('select event_id from event_outbox order by position')).rows.map((r) => r.event_id);
  } finally {
    await c.end();
  }
}

describe('EventService.SubscribeEvents (e2e)', () => {
  let t: TestApp;
  let events: EventServiceClient;
  const subs: Subscription[] = [];
  const subscribe = (req: ConstructorParameters<typeof Subscription>[1]) => {
    const s = new Subscription(events, req);
    subs.push(s);
    return s;
  };
  before(async () => {
    t = await startTestApp({ FEED_POLL_MS: '500' });
    events = eventClient(t.address);
  });
  afterEach(() => {
    for (const s of subs.splice(0)) s.cancel();
  });
  after(async () => {
    events.close();
    await t.stop();
  });

  it('delivers the history from a position, then live events, with consecutive positions', async () => {
    for (const code of ['A1', 'A2', 'A3']) await t.client.createWarehouse({ code, name: code, region: 'eu', priority: 1 });
    const s = subscribe({ start: { $case: 'afterPosition', value: 0n } });
    await s.until((x) => x.events.length >= 3);
    expect(s.events.map((e) => e.streamId)).to.deep.equal(['warehouse#A1', 'warehouse#A2', 'warehouse#A3']);
    expect(positions(s.events)).to.deep.equal([1, 2, 3]);
    await t.client.createItem({ sku: 'SKU-1', name: 'one' });
    await s.until((x) => x.events.length >= 4);
    expect(s.events[3]).to.include({ streamId: 'item#SKU-1', type: 'ItemCreated', position: 4n });
    expect(s.events[3]!.payload?.$case).to.equal('itemCreated');

    const resumed = subscribe({ start: { $case: 'afterPosition', value: 2n } });
    await resumed.until((x) => x.events.length >= 2);
    expect(positions(resumed.events)).to.deep.equal([3, 4]);
  });

  it('from_now delivers only what commits afterwards; filters select by stream prefix and type', async () => {
    const now = subscribe({ start: { $case: 'fromNow', value: true } });
    const items = subscribe({ start: { $case: 'afterPosition', value: 0n }, streamIdPrefix: 'item#' });
    const updates = subscribe({ start: { $case: 'afterPosition', value: 0n }, eventTypes: ['WarehouseUpdated'] });
    await new Promise((r) => setTimeout(r, 200));
    await t.client.updateWarehouse({ code: 'A1', priority: 7 });
    await t.client.createItem({ sku: 'SKU-2', name: 'two' });
    await now.until((x) => x.events.length >= 2);
    expect(now.events.map((e) => e.type)).to.deep.equal(['WarehouseUpdated', 'ItemCreated']);
    await items.until((x) => x.events.length >= 2);
    expect(items.events.map((e) => e.streamId)).to.deep.equal(['item#SKU-1', 'item#SKU-2']);
    await updates.until((x) => x.events.length >= 1);
    expect(updates.events.map((e) => e.streamId)).to.deep.equal(['warehouse#A1']);
  });

  it('rejects an unknown event type and a negative position with INVALID_ARGUMENT', async () => {
    const e1 = await subscribe({ eventTypes: ['Nope'] }).failure();
    expect(e1.code).to.equal(status.INVALID_ARGUMENT);
    expect(e1.details).to.match(/^event_types:/);
    const e2 = await subscribe({ start: { $case: 'afterPosition', value: -1n } }).failure();
    expect(e2.code).to.equal(status.INVALID_ARGUMENT);
    expect(e2.details).to.match(/^after_position:/);
  });

  it('does not skip a transaction that took a lower id but committed later (the sequence trap)', async () => {
    const s = subscribe({ start: { $case: 'fromNow', value: true } });
    await new Promise((r) => setTimeout(r, 200));
    const a = new pg.Client({ connectionString: t.databaseUrl });
    const b = new pg.Client({ connectionString: t.databaseUrl });
    await a.connect();
    await b.connect();
    const insert = (c: pg.Client, sku: string) =>
      c.query(
        `insert into event_outbox (event_id, stream_id, version, type, schema_version, payload, correlation_id, occurred_at)
         values ($1, $2, 1, 'ItemCreated', 1, $3, 'trap', now()) returning id`,
        [randomUUID(), `item#${sku}`, JSON.stringify({ sku, name: sku, description: '' })],
      );
    try {
      await a.query('begin');
      const idA = Number((await insert(a, 'TRAP-A')).rows[0].id);
      await b.query('begin');
      const idB = Number((await insert(b, 'TRAP-B')).rows[0].id);
      expect(idA).to.be.below(idB);
      await b.query('commit');
      t.app.events.sequencer.kick();
      await s.until((x) => x.events.some((e) => e.streamId === 'item#TRAP-B'));
      await a.query('commit');
      t.app.events.sequencer.kick();
      await s.until((x) => x.events.some((e) => e.streamId === 'item#TRAP-A'));
      const [eb, ea] = [s.events.find((e) => e.streamId === 'item#TRAP-B')!, s.events.find((e) => e.streamId === 'item#TRAP-A')!];
      expect(Number(ea.position)).to.equal(Number(eb.position) + 1);
    } finally {
      await a.end();
      await b.end();
    }
  });

  it('with many concurrent writers, every subscriber gets every event exactly once, in position order', async function () {
    this.timeout(120_000);
    const early = subscribe({ start: { $case: 'afterPosition', value: 0n } });
    const writers = 20;
    const perWriter = 10;
    let written = 0;
    let late: Subscription | undefined;
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        const code = `CW-${w}`;
        await t.client.createWarehouse({ code, name: code, region: 'eu', priority: 1 });
        for (let i = 0; i < perWriter; i++) {
          await t.client.updateWarehouse({ code, priority: i });
          // Halfway through, a subscriber starts from the beginning and must catch up while writes go on.
          if (++written === (writers * perWriter) / 2) late = subscribe({ start: { $case: 'afterPosition', value: 0n } });
        }
      }),
    );
    await t.app.relay.sweep();
    await waitFor(async () => {
      const rows = (await t.app.orm.em.fork().execute('select count(*)::int as c from event_outbox where position is null')) as Array<{ c: number }>;
      return rows[0]?.c === 0;
    }, 30_000, 'every event to get a position');
    const expected = await outboxIds(t.databaseUrl);
    for (const s of [early, late!]) {
      await s.until((x) => x.events.length >= expected.length, 30_000);
      await new Promise((r) => setTimeout(r, 200)); // nothing more may arrive
      expect(s.events.map((e) => e.eventId)).to.deep.equal(expected);
      expect(consecutive(positions(s.events), 1)).to.equal(true);
    }
  });
});
