import { randomUUID } from 'node:crypto';
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import type { EventServiceClient } from '../../src/gen/inventory/v1/event_service.js';
import { StreamEventsRequest, type StreamEventsResponse } from '../../src/gen/inventory/v1/event_service.js';
import type { EventEnvelope } from '../../src/events/types.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { eventClient, Subscription, waitFor } from '../support/events.js';

const EVENTS = 200;

/** One StreamEvents call: its final status and how many events came before it. */
function open(client: EventServiceClient, streamId: string, deadlineMs?: number) {
  let received = 0;
  const call = client.streamEvents(
    StreamEventsRequest.fromPartial({ streamId }),
    new Metadata(),
    deadlineMs === undefined ? {} : { deadline: Date.now() + deadlineMs },
  );
  call.on('data', (_m: StreamEventsResponse) => received++);
  call.on('error', (_e: ServiceError) => undefined);
  const done = new Promise<{ code: number; details: string; received: number; at: number }>((resolve) =>
    call.on('status', (s: { code: number; details: string }) => resolve({ code: s.code, details: s.details, received, at: Date.now() })),
  );
  return { call, done, received: () => received };
}

describe('StreamEvents admission: a bounded number of calls stream, the rest are told to retry in time (e2e)', function () {
  this.timeout(120_000);
  let t: TestApp;
  let events: EventServiceClient;
  before(async () => {
    // No poll of the feed's tail within the test: every tail read counted below is a wake-up.
    t = await startTestApp({ STREAM_ACTIVE_CALLS: '1', STREAM_QUEUE_WAIT_MS: '300', STREAM_PAGE_SIZE: '20', FEED_POLL_MS: '600000' });
    events = eventClient(t.address);
    // About 1 KB per event: 200 of them are far more than the HTTP/2 window of a paused client.
    const at = new Date();
    const stream: EventEnvelope[] = Array.from({ length: EVENTS }, (_, i) =>
      i === 0
        ? { eventId: randomUUID(), streamId: 'warehouse#HOLD', version: 1, type: 'WarehouseCreated', schemaVersion: 1, correlationId: 'adm', occurredAt: at, data: { code: 'HOLD', name: 'hold', region: 'eu', priority: 1, active: true } }
        : { eventId: randomUUID(), streamId: 'warehouse#HOLD', version: i + 1, type: 'WarehouseUpdated', schemaVersion: 1, correlationId: 'adm', occurredAt: at, data: { code: 'HOLD', changes: { name: 'n'.repeat(1000) } } },
    );
    const { failed } = await t.app.appender.appendAll(stream);
    expect(failed).to.equal(0);
  });
  after(async () => {
    events.close();
    await t.stop();
  });

  it('while the one place is held by a paused client, a waiting call gets RESOURCE_EXHAUSTED after STREAM_QUEUE_WAIT_MS, and one with a short deadline before its deadline', async () => {
    const holder = open(events, 'warehouse#HOLD');
    holder.call.once('data', () => holder.call.pause());
    try {
      await holdWhileOthersWait(holder);
    } finally {
      holder.call.resume();
    }
    const held = await holder.done;
    expect([held.code, held.received]).to.deep.equal([status.OK, EVENTS]);
    // The place is free again.
    const after = await open(events, 'warehouse#HOLD').done;
    expect([after.code, after.received]).to.deep.equal([status.OK, EVENTS]);
  });

  async function holdWhileOthersWait(holder: ReturnType<typeof open>): Promise<void> {
    await waitFor(() => holder.received() > 0, 15_000, 'the holder to start');

    const started = Date.now();
    const waiting = await open(events, 'warehouse#HOLD').done;
    expect(waiting.code, waiting.details).to.equal(status.RESOURCE_EXHAUSTED);
    expect(waiting.details).to.match(/streaming places came free within 300 ms; retry later \(STREAM_ACTIVE_CALLS, STREAM_QUEUE_WAIT_MS/);
    expect(waiting.received).to.equal(0);
    expect(waiting.at - started).to.be.at.least(250);

    // A 400 ms deadline: it waits at most 200 ms, so it is told to retry instead of hitting the deadline.
    const short = await open(events, 'warehouse#HOLD', 400).done;
    expect(short.code, short.details).to.equal(status.RESOURCE_EXHAUSTED);
    expect(short.details).to.match(/within 1\d\d ms|within 200 ms/); // the server sees a little less time left than the client set
    expect(short.received).to.equal(0);
  }

  it('many calls at once: every one either gets every event or RESOURCE_EXHAUSTED before any event, never INTERNAL or DEADLINE_EXCEEDED', async () => {
    const outcomes = await Promise.all(Array.from({ length: 30 }, () => open(events, 'warehouse#HOLD', 30_000).done));
    for (const o of outcomes) {
      if (o.code === status.OK) expect(o.received).to.equal(EVENTS);
      else {
        expect(o.code, o.details).to.equal(status.RESOURCE_EXHAUSTED);
        expect(o.received).to.equal(0);
      }
    }
    expect(outcomes.some((o) => o.code === status.OK)).to.equal(true);
  });

  it("this instance's own commits reach a live subscriber without the tail reading them back", async () => {
    const sub = new Subscription(events, { start: { $case: 'fromNow', value: true }, streamIdPrefix: 'warehouse#LOCAL-' });
    try {
      await waitFor(() => t.app.events.feedTail.subscribers === 1, 15_000, 'the subscriber to go live');
      const tailReads = t.app.events.feedPages.stats.tail;
      const handed = t.app.events.feedTail.stats.handedOver;
      for (let i = 0; i < 5; i++) await t.client.createWarehouse({ code: `LOCAL-${i}`, name: 'l', region: 'eu', priority: 1 });
      await sub.until((s) => s.events.length === 5);
      expect(sub.events.map((e) => e.streamId)).to.deep.equal([0, 1, 2, 3, 4].map((i) => `warehouse#LOCAL-${i}`));
      expect(t.app.events.feedTail.stats.handedOver - handed).to.be.at.least(5);
      // Neither the wake-up nor this instance's own NOTIFY (which may arrive before the
      // sequencer's commit returns) sends the tail to PostgreSQL.
      expect(t.app.events.feedPages.stats.tail - tailReads).to.equal(0);
    } finally {
      sub.cancel();
    }
  });
});
