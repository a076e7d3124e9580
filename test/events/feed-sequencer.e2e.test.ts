import { expect } from 'chai';
import type { EventServiceClient } from '../../src/gen/inventory/v1/event_service.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { startDelayProxy } from '../support/delay-proxy.js';
import { eventClient, Subscription, waitFor } from '../support/events.js';
import { freshDatabase } from '../support/stack.js';

describe('feed sequencer: its own NOTIFY before its answer (e2e)', function () {
  this.timeout(120_000);
  let t: TestApp;
  let events: EventServiceClient;
  let proxy: Awaited<ReturnType<typeof startDelayProxy>>;

  before(async () => {
    // The service's pool reaches PostgreSQL through a proxy that delays every answer by
    // 40 ms; its LISTEN connection is direct. So the NOTIFY of each sequencer pass (sent at
    // its commit) always arrives before the pass's own answer says which positions it took.
    const direct = await freshDatabase();
    const url = new URL(direct);
    proxy = await startDelayProxy(Number(url.port), 40);
    url.port = String(proxy.port);
    // No poll of the feed's tail within the test: every tail read counted below is a wake-up.
    t = await startTestApp({ DATABASE_LISTEN_URL: direct, FEED_POLL_MS: '600000' }, { databaseUrl: url.toString() });
    events = eventClient(t.address);
  });
  after(async () => {
    events.close();
    await t.stop();
    await proxy.close();
  });

  it("this instance's commits reach a live subscriber with no tail read, though each NOTIFY came first", async () => {
    const sub = new Subscription(events, { start: { $case: 'fromNow', value: true }, streamIdPrefix: 'warehouse#EARLY-' });
    try {
      await waitFor(() => t.app.events.feedTail.subscribers === 1, 15_000, 'the subscriber to go live');
      const tailReads = t.app.events.feedPages.stats.tail;
      const handed = t.app.events.feedTail.stats.handedOver;
      const held = t.app.events.signal.stats.heldBack;
      for (let i = 0; i < 5; i++) await t.client.createWarehouse({ code: `EARLY-${i}`, name: 'e', region: 'eu', priority: 1 });
      await sub.until((s) => s.events.length === 5);
      expect(sub.events.map((e) => e.streamId)).to.deep.equal([0, 1, 2, 3, 4].map((i) => `warehouse#EARLY-${i}`));
      expect(t.app.events.feedTail.stats.handedOver - handed).to.be.at.least(5);
      // The NOTIFYs did arrive while their pass was in flight, and were held back...
      expect(t.app.events.signal.stats.heldBack - held).to.be.at.least(1);
      // ...so none of them sent the tail to PostgreSQL for rows it was being handed.
      expect(t.app.events.feedPages.stats.tail - tailReads).to.equal(0);
    } finally {
      sub.cancel();
    }
  });
});
