import { expect } from 'chai';
import type { EventServiceClient, SubscribeEventsRequest } from '../../src/gen/inventory/v1/event_service.js';
import type { DeepPartial } from '../../src/gen/inventory/v1/event_service.js';
import type { Event } from '../../src/gen/inventory/v1/events.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { eventClient, Subscription, waitFor } from '../support/events.js';

type Row = { event_id: string; stream_id: string; type: string; position: number };
type Filter = { streamIdPrefix?: string; eventTypes?: string[] };

/** Every filter shape: none, prefix only, types only, both; some match nothing the writers write. */
const FILTERS: Filter[] = [
  {},
  { streamIdPrefix: 'item#' },
  { streamIdPrefix: 'item#IX-1-' },
  { streamIdPrefix: 'stock#IX-2-' },
  { streamIdPrefix: 'warehouse#' },
  { eventTypes: ['StockReceived'] },
  { eventTypes: ['ItemCreated', 'WarehouseUpdated'] },
  { streamIdPrefix: 'stock#IX-1-', eventTypes: ['StockReceived'] },
  { streamIdPrefix: 'stock#', eventTypes: ['StockAdjusted', 'ItemCreated'] },
  { streamIdPrefix: 'item#IX-', eventTypes: ['ItemCreated'] },
  { streamIdPrefix: 'warehouse#FA', eventTypes: ['WarehouseUpdated'] },
  { streamIdPrefix: 'item#', eventTypes: ['StockReceived'] }, // matches nothing
  { streamIdPrefix: 'allocation#' }, // matches nothing
  { eventTypes: ['AllocationExpired'] }, // matches nothing
];

const matches = (f: Filter, r: Row) =>
  (f.streamIdPrefix === undefined || r.stream_id.startsWith(f.streamIdPrefix)) && (f.eventTypes === undefined || f.eventTypes.includes(r.type));

const ids = (events: Event[]) => events.map((e) => e.eventId);

/**
 * `writers` callers, each `rounds` times: a new item (1,500 bytes of description), stock of
 * it received in one of two warehouses, every third round an adjustment and a warehouse
 * update. Mixed streams and types, committed in batches the sequencer numbers together.
 */
async function write(t: TestApp, tag: string, writers: number, rounds: number): Promise<void> {
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      for (let i = 0; i < rounds; i++) {
        const sku = `${tag}-${w}-${i}`;
        const warehouseCode = i % 2 === 0 ? 'FA' : 'FB';
        await t.client.createItem({ sku, name: sku, description: 'd'.repeat(1500) });
        await t.client.receiveStock({ sku, warehouseCode, quantity: 5n });
        if (i % 3 === w % 3) {
          await t.client.adjustStock({ sku, warehouseCode, change: { $case: 'delta', value: -1n }, reason: 'count' });
          await t.client.updateWarehouse({ code: warehouseCode, priority: 1 + ((w + i) % 9) });
        }
      }
    }),
  );
}

async function sequenced(t: TestApp): Promise<Row[]> {
  await waitFor(async () => {
    const rows = (await t.app.orm.em.fork().execute('select count(*)::int as c from event_outbox where position is null')) as Array<{ c: number }>;
    return rows[0]?.c === 0;
  }, 30_000, 'every event to get a position');
  const rows = (await t.app.orm.em
    .fork()
    .execute('select event_id, stream_id, type, position from event_outbox order by position')) as Array<Omit<Row, 'position'> & { position: string }>;
  return rows.map((r) => ({ ...r, position: Number(r.position) }));
}

async function warehouses(t: TestApp): Promise<void> {
  for (const code of ['FA', 'FB']) await t.client.createWarehouse({ code, name: code, region: 'eu', priority: 1 });
}

describe('global feed: the live index under mixed filters, joins and leaves (e2e)', function () {
  this.timeout(180_000);

  describe('many subscribers, every filter shape', () => {
    let t: TestApp;
    let events: EventServiceClient;
    before(async () => {
      t = await startTestApp({ FEED_POLL_MS: '300' });
      events = eventClient(t.address);
    });
    after(async () => {
      events.close();
      await t.stop();
    });

    it('each subscriber gets exactly the events its filter matches, in position order, from memory', async () => {
      await warehouses(t);
      await sequenced(t);
      const perFilter = 12;
      const groups = FILTERS.map((f) => Array.from({ length: perFilter }, () => new Subscription(events, { start: { $case: 'fromNow', value: true }, ...f })));
      try {
        await waitFor(() => t.app.events.feedTail.subscribers === FILTERS.length * perFilter, 15_000, 'every subscriber to join the live window');
        const start = (await t.app.events.feed.state()).lastPosition;
        const catchUp = t.app.events.feedPages.stats.catchUp;

        await write(t, 'IX', 4, 12);
        const rows = (await sequenced(t)).filter((r) => r.position > start);
        for (const type of ['ItemCreated', 'StockReceived', 'StockAdjusted', 'WarehouseUpdated']) expect(rows.some((r) => r.type === type), type).to.equal(true);

        for (const [i, f] of FILTERS.entries()) {
          const expected = rows.filter((r) => matches(f, r)).map((r) => r.event_id);
          for (const s of groups[i]!) {
            await s.until((x) => x.events.length >= expected.length);
            expect(ids(s.events), JSON.stringify(f)).to.deep.equal(expected);
          }
        }
        await new Promise((r) => setTimeout(r, 300)); // nothing more may arrive
        for (const [i, f] of FILTERS.entries()) {
          const n = rows.filter((r) => matches(f, r)).length;
          for (const s of groups[i]!) expect(s.events.length, JSON.stringify(f)).to.equal(n);
        }
        expect(t.app.events.feedPages.stats.catchUp).to.equal(catchUp); // all of it from the live window
      } finally {
        for (const s of groups.flat()) s.cancel();
      }
      await waitFor(() => t.app.events.feedTail.subscribers === 0, 15_000, 'every subscriber to leave the index');
    });
  });

  describe('joining and leaving during a write load', () => {
    let t: TestApp;
    let events: EventServiceClient;
    before(async () => {
      // A small window and buffer: joins go through PostgreSQL, the window and the live
      // index; paused clients overflow and come back.
      t = await startTestApp({ FEED_POLL_MS: '200', FEED_WINDOW_EVENTS: '100', FEED_SUBSCRIBER_BUFFER: '8', FEED_CATCHUP_READERS: '2' });
      events = eventClient(t.address);
    });
    after(async () => {
      events.close();
      await t.stop();
    });

    it('every subscriber, whenever it joins or leaves, receives its events in order with no gap and no repeat', async () => {
      await warehouses(t);
      await write(t, 'PRE', 2, 10); // history behind the window
      await sequenced(t);
      const overflows = t.app.events.feed.stats.overflows;
      const catchUp = t.app.events.feedPages.stats.catchUp;

      type Open = { s: Subscription; filter: Filter; after: number | undefined; cancelled: boolean };
      const open: Open[] = [];
      const subscribe = (filter: Filter, start: DeepPartial<SubscribeEventsRequest>['start'], after: number | undefined) =>
        open.push({ s: new Subscription(events, { start, ...filter }), filter, after, cancelled: false });
      // Unfiltered and paused through the writes: it must overflow and come back.
      subscribe({}, { $case: 'afterPosition', value: 0n }, 0);
      open[0]!.s.call.pause();

      let seed = 7;
      const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
      let writing = true;
      // Writes go on until at least 24 subscribers have joined during them, however fast the machine.
      let round = 0;
      const writes = (async () => {
        do await write(t, `JL${round++}`, 4, 12);
        while (round < 2 || open.length < 24);
      })().finally(() => (writing = false));
      const churn = (async () => {
        for (let i = 0; writing; i++) {
          const filter = FILTERS[i % FILTERS.length]!;
          const last = (await t.app.events.feed.state()).lastPosition;
          const kind = i % 3;
          if (kind === 0) subscribe(filter, { $case: 'fromNow', value: true }, undefined);
          else if (kind === 1) {
            const after = Math.max(0, last - Math.floor(random() * 250)); // often behind the window of 100
            subscribe(filter, { $case: 'afterPosition', value: BigInt(after) }, after);
          } else subscribe(filter, { $case: 'fromOldest', value: true }, 0);
          const leaving = open.filter((o) => !o.cancelled && o !== open[0] && random() < 0.25);
          for (const o of leaving) {
            o.cancelled = true;
            o.s.cancel();
          }
          if (i % 5 === 0) {
            const some = open.find((o) => !o.cancelled && o !== open[0] && !o.s.call.isPaused());
            some?.s.call.pause();
            setTimeout(() => some?.s.call.resume(), 300);
          }
          await new Promise((r) => setTimeout(r, 30 + random() * 60));
        }
      })();
      await writes;
      await churn;
      open[0]!.s.call.resume();
      const rows = await sequenced(t);

      try {
        expect(open.length).to.be.at.least(20);
        const matching = (o: Open) => rows.filter((r) => matches(o.filter, r));
        const label = (o: Open) => `${JSON.stringify(o.filter)} after ${o.after ?? 'now'}${o.cancelled ? ', cancelled' : ''}`;
        // Those with a known start receive everything after it; then nothing is in flight.
        for (const o of open.filter((x) => !x.cancelled && x.after !== undefined)) {
          const n = matching(o).filter((r) => r.position > o.after!).length;
          await o.s.until((x) => x.events.length >= n, 60_000);
        }
        await new Promise((r) => setTimeout(r, 500));
        for (const o of open) {
          const all = matching(o);
          const got = ids(o.s.events);
          let expected: string[];
          if (o.after !== undefined) expected = all.filter((r) => r.position > o.after!).map((r) => r.event_id);
          else {
            // from_now: its start is not known here, but from its first event on nothing may be missing.
            const first = got.length === 0 ? all.length : all.findIndex((r) => r.event_id === got[0]);
            expect(first, `${label(o)}: its first event is one that matches`).to.be.at.least(0);
            expected = all.slice(first).map((r) => r.event_id);
          }
          if (!o.cancelled) expect(o.s.error, label(o)).to.equal(undefined);
          expect(got, label(o)).to.deep.equal(o.cancelled ? expected.slice(0, got.length) : expected);
        }
        expect(t.app.events.feed.stats.overflows).to.be.above(overflows);
        expect(t.app.events.feedPages.stats.catchUp).to.be.above(catchUp);
        expect(open.some((o) => o.cancelled && o.s.events.length > 0)).to.equal(true);
      } finally {
        for (const o of open) o.s.cancel();
      }
      await waitFor(() => t.app.events.feedTail.subscribers === 0 && t.app.events.feed.openSubscriptions === 0, 15_000, 'every subscriber to leave');
    });
  });
});
