import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import pg from 'pg';
import type { EventServiceClient } from '../../src/gen/inventory/v1/event_service.js';
import type { Event } from '../../src/gen/inventory/v1/events.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { eventClient, Subscription, waitFor } from '../support/events.js';

type Row = { event_id: string; stream_id: string; type: string; position: string };

/** Writes outbox rows the way committed transactions do (the sequencer numbers them). */
async function writeItems(t: TestApp, prefix: string, count: number, writers: number, descriptionBytes = 0, first = 0): Promise<void> {
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      const c = new pg.Client({ connectionString: t.databaseUrl });
      await c.connect();
      try {
        for (let i = w; i < count; i += writers) {
          const sku = `${prefix}-${w}-${first + i}`;
          await c.query(
            `insert into event_outbox (event_id, stream_id, version, type, schema_version, payload, correlation_id, occurred_at)
             values ($1, $2, 1, 'ItemCreated', 1, $3, 'fanout', now())`,
            [randomUUID(), `item#${sku}`, JSON.stringify({ sku, name: sku, description: 'd'.repeat(descriptionBytes) })],
          );
          t.app.events.sequencer.kick();
        }
      } finally {
        await c.end();
      }
    }),
  );
}

async function sequenced(t: TestApp): Promise<Row[]> {
  await waitFor(async () => {
    const rows = (await t.app.orm.em.fork().execute('select count(*)::int as c from event_outbox where position is null')) as Array<{ c: number }>;
    return rows[0]?.c === 0;
  }, 30_000, 'every event to get a position');
  return (await t.app.orm.em
    .fork()
    .execute('select event_id, stream_id, type, position from event_outbox order by position')) as Row[];
}

const ids = (events: Event[]) => events.map((e) => e.eventId);

describe('global feed at scale: fan-out, catch-up seam, slow consumers, limits (e2e)', function () {
  this.timeout(120_000);

  describe('one tail reader, many filtered subscribers', () => {
    let t: TestApp;
    let events: EventServiceClient;
    const subs: Subscription[] = [];
    before(async () => {
      t = await startTestApp({ FEED_POLL_MS: '300' });
      events = eventClient(t.address);
    });
    after(async () => {
      for (const s of subs) s.cancel();
      events.close();
      await t.stop();
    });

    it('fans each event out to every subscriber whose filter matches, with no query per subscriber', async () => {
      await t.client.createWarehouse({ code: 'FW', name: 'fw', region: 'eu', priority: 1 });
      await sequenced(t); // from_now below starts after it
      const filters: Array<{ streamIdPrefix?: string; eventTypes?: string[] }> = [
        {},
        { streamIdPrefix: 'item#' },
        { streamIdPrefix: 'item#FAN-1-' },
        { eventTypes: ['WarehouseUpdated'] },
        { eventTypes: ['ItemCreated', 'WarehouseUpdated'] },
        { streamIdPrefix: 'item#', eventTypes: ['WarehouseUpdated'] }, // matches nothing
        { streamIdPrefix: 'stock#' }, // matches nothing
      ];
      const perFilter = 30;
      const groups = filters.map((f) => Array.from({ length: perFilter }, () => new Subscription(events, { start: { $case: 'fromNow', value: true }, ...f })));
      subs.push(...groups.flat());
      await waitFor(() => t.app.events.feedTail.subscribers === filters.length * perFilter, 15_000, 'every subscriber to join the live window');
      const before = { ...t.app.events.feedPages.stats };
      const start = (await t.app.events.feed.state()).lastPosition;

      await writeItems(t, 'FAN', 40, 4);
      for (let p = 2; p <= 6; p++) await t.client.updateWarehouse({ code: 'FW', priority: p });
      const rows = (await sequenced(t)).filter((r) => Number(r.position) > start);
      expect(rows).to.have.length(45);

      for (const [i, f] of filters.entries()) {
        const expected = rows
          .filter((r) => (f.streamIdPrefix === undefined || r.stream_id.startsWith(f.streamIdPrefix)) && (f.eventTypes === undefined || f.eventTypes.includes(r.type)))
          .map((r) => r.event_id);
        for (const s of groups[i]!) {
          await s.until((x) => x.events.length >= expected.length);
          expect(ids(s.events), JSON.stringify(f)).to.deep.equal(expected);
        }
      }
      await new Promise((r) => setTimeout(r, 300)); // nothing more may arrive
      for (const [i, f] of filters.entries()) for (const s of groups[i]!) expect(s.events.length, JSON.stringify(f)).to.equal(groups[i]![0]!.events.length);
      // 210 live subscribers were served from memory: no catch-up page at all, and the tail's
      // reads do not depend on the number of subscribers.
      const after = t.app.events.feedPages.stats;
      expect(after.catchUp - before.catchUp).to.equal(0);
      expect(after.tail - before.tail).to.be.below(100);
      expect(t.app.events.feed.openSubscriptions).to.equal(filters.length * perFilter);
    });
  });

  describe('catch-up -> live seam', () => {
    let t: TestApp;
    let events: EventServiceClient;
    before(async () => {
      // A window of 100 events: most subscribers start behind it and page from PostgreSQL.
      t = await startTestApp({ FEED_POLL_MS: '200', FEED_WINDOW_EVENTS: '100', FEED_CATCHUP_READERS: '2' });
      events = eventClient(t.address);
    });
    after(async () => {
      events.close();
      await t.stop();
    });

    it('subscribers joining from position 0 while writers write get every event exactly once, in order', async () => {
      const joins = t.app.events.feed.stats.joins;
      const subs: Subscription[] = [new Subscription(events, { start: { $case: 'afterPosition', value: 0n } })];
      // First enough events that the window has moved past position 0 ...
      await writeItems(t, 'SEAM', 300, 6);
      await waitFor(() => t.app.events.feedTail.range.start > 0, 30_000, 'the window to move on');
      // ... then subscribers start from the beginning at different moments while writes go on.
      const writing = writeItems(t, 'SEAM', 600, 6, 0, 300);
      for (let i = 0; i < 8; i++) {
        await new Promise((r) => setTimeout(r, 150));
        subs.push(new Subscription(events, { start: { $case: 'afterPosition', value: 0n } }));
        subs.push(new Subscription(events, { start: { $case: 'afterPosition', value: 0n }, streamIdPrefix: 'item#SEAM-2-' }));
      }
      await writing;
      const rows = await sequenced(t);
      expect(rows).to.have.length(900);
      try {
        const everything = rows.map((r) => r.event_id);
        const onlyTwo = rows.filter((r) => r.stream_id.startsWith('item#SEAM-2-')).map((r) => r.event_id);
        for (const [i, s] of subs.entries()) {
          const expected = i > 0 && i % 2 === 0 ? onlyTwo : everything;
          await s.until((x) => x.events.length >= expected.length, 60_000);
          await new Promise((r) => setTimeout(r, 100));
          expect(ids(s.events)).to.deep.equal(expected);
        }
        expect(t.app.events.feedPages.stats.catchUp).to.be.above(0);
        expect(t.app.events.feed.stats.joins - joins).to.be.at.least(subs.length);
      } finally {
        for (const s of subs) s.cancel();
      }
    });
  });

  describe('slow consumers', () => {
    let t: TestApp;
    let events: EventServiceClient;
    before(async () => {
      t = await startTestApp({ FEED_POLL_MS: '200', FEED_WINDOW_EVENTS: '100', FEED_SUBSCRIBER_BUFFER: '5' });
      events = eventClient(t.address);
    });
    after(async () => {
      events.close();
      await t.stop();
    });

    it('a subscriber that stops reading is detached from the live window, buffers at most its limit, and later resumes without a gap', async () => {
      const overflows = t.app.events.feed.stats.overflows;
      const catchUp = t.app.events.feedPages.stats.catchUp;
      const slow = new Subscription(events, { start: { $case: 'fromNow', value: true } });
      const fast = new Subscription(events, { start: { $case: 'fromNow', value: true } });
      try {
        await waitFor(() => t.app.events.feedTail.subscribers === 2, 15_000, 'both to join');
        slow.call.pause();
        // 2 KB events: far more than the HTTP/2 windows and the buffer of 5 hold.
        await writeItems(t, 'SLOW', 400, 4, 2000);
        const expected = (await sequenced(t)).map((r) => r.event_id);
        await fast.until((x) => x.events.length >= 400);
        expect(ids(fast.events)).to.deep.equal(expected);
        await waitFor(() => t.app.events.feed.stats.overflows > overflows, 15_000, 'the slow subscriber to overflow');
        expect(t.app.events.feedTail.subscribers).to.equal(1); // only the fast one is live
        slow.call.resume();
        await slow.until((x) => x.events.length >= 400, 30_000);
        await new Promise((r) => setTimeout(r, 200));
        expect(ids(slow.events)).to.deep.equal(expected);
        // It fell behind the window of 100, so it read the rest from PostgreSQL, then rejoined.
        expect(t.app.events.feedPages.stats.catchUp).to.be.above(catchUp);
        await waitFor(() => t.app.events.feedTail.subscribers === 2, 15_000, 'the slow subscriber to rejoin');
        await writeItems(t, 'AFTER', 3, 1);
        await slow.until((x) => x.events.length === 403);
        expect(slow.error).to.equal(undefined);
      } finally {
        slow.cancel();
        fast.cancel();
      }
    });
  });

  describe('limits', () => {
    let t: TestApp;
    let events: EventServiceClient;
    before(async () => {
      t = await startTestApp({ MAX_SUBSCRIPTIONS: '3', STREAM_READ_CONCURRENCY: '1', STREAM_READ_QUEUE: '2', STREAM_PAGE_SIZE: '2' });
      events = eventClient(t.address);
    });
    after(async () => {
      events.close();
      await t.stop();
    });

    it('MAX_SUBSCRIPTIONS: one more is RESOURCE_EXHAUSTED saying so; a freed place can be taken again', async () => {
      const open = [0, 1, 2].map(() => new Subscription(events, { start: { $case: 'fromNow', value: true } }));
      try {
        await waitFor(() => t.app.events.feed.openSubscriptions === 3, 15_000, 'three subscriptions');
        const err = await new Subscription(events, { start: { $case: 'fromNow', value: true } }).failure();
        expect(err.code).to.equal(status.RESOURCE_EXHAUSTED);
        expect(err.details).to.contain('MAX_SUBSCRIPTIONS=3');
        open.pop()!.cancel();
        await waitFor(() => t.app.events.feed.openSubscriptions === 2, 15_000, 'the cancelled one to close');
        const again = new Subscription(events, { start: { $case: 'fromNow', value: true } });
        open.push(again);
        await t.client.createItem({ sku: 'LIM-1', name: 'l' });
        await again.until((x) => x.events.length === 1);
      } finally {
        for (const s of open) s.cancel();
      }
    });

    it('StreamEvents beyond the read slots queue; beyond the queue they are RESOURCE_EXHAUSTED before any event, never INTERNAL', async () => {
      await t.client.createWarehouse({ code: 'LW', name: 'lw', region: 'eu', priority: 1 });
      for (let p = 2; p <= 10; p++) await t.client.updateWarehouse({ code: 'LW', priority: p });
      await t.app.relay.sweep();
      await waitFor(async () => {
        const rows = (await t.app.orm.em.fork().execute('select count(*)::int as c from event_outbox where appended_at is null')) as Array<{ c: number }>;
        return rows[0]?.c === 0;
      }, 30_000, 'every event in DynamoDB');
      const outcomes = await Promise.all(
        Array.from(
          { length: 40 },
          () =>
            new Promise<{ code: number; events: number; details: string }>((resolve) => {
              let n = 0;
              const call = events.streamEvents({ streamId: 'warehouse#LW', fromVersion: 0n, direction: 0, limit: 0 });
              call.on('data', () => n++);
              call.on('error', () => undefined);
              call.on('status', (s: { code: number; details: string }) => resolve({ code: s.code, events: n, details: s.details }));
            }),
        ),
      );
      for (const o of outcomes) {
        if (o.code === status.OK) expect(o.events).to.equal(10);
        else {
          expect(o.code, o.details).to.equal(status.RESOURCE_EXHAUSTED);
          expect(o.events).to.equal(0);
          expect(o.details).to.contain('STREAM_READ_QUEUE');
        }
      }
      expect(outcomes.filter((o) => o.code === status.OK).length).to.be.above(0);
    });
  });
});
