import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { startTestApp, type TestApp } from '../support/app.js';
import { eventClient, Subscription } from '../support/events.js';
import { drained, sql } from '../support/replay.js';

describe('global feed retention and shutdown (e2e)', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ FEED_RETENTION_HOURS: '24' });
    for (let i = 1; i <= 6; i++) await t.client.createItem({ sku: `P-${i}`, name: `p${i}` });
    await drained(t.app);
  });
  after(() => t.stop());

  it('prunes appended events older than the retention, and an older position is OUT_OF_RANGE naming the oldest', async () => {
    // Positions 1-4 were appended two days ago; 5 is old but not appended yet, so it and 6 stay.
    await sql(t.databaseUrl, `update event_outbox set appended_at = now() - interval '2 days' where position <= 4`);
    await sql(t.databaseUrl, `update event_outbox set appended_at = null where position = 5`);
    expect(await t.app.events.pruner.prune()).to.equal(4);
    const rows = await sql<{ position: string }>(t.databaseUrl, 'select position from event_outbox order by position');
    expect(rows.map((r) => Number(r.position))).to.deep.equal([5, 6]);

    const events = eventClient(t.address);
    try {
      const stale = new Subscription(events, { start: { $case: 'afterPosition', value: 2n } });
      const err = await stale.failure();
      expect(err.code).to.equal(status.OUT_OF_RANGE);
      expect(err.details).to.contain('oldest available position is 5');
      const fromZero = new Subscription(events, {});
      expect((await fromZero.failure()).code).to.equal(status.OUT_OF_RANGE);

      const future = new Subscription(events, { start: { $case: 'afterPosition', value: 1000n } });
      const ahead = await future.failure();
      expect(ahead.code).to.equal(status.OUT_OF_RANGE);
      expect(ahead.details).to.contain('beyond the newest position 6');

      const exact = new Subscription(events, { start: { $case: 'afterPosition', value: 4n } });
      const oldest = new Subscription(events, { start: { $case: 'fromOldest', value: true } });
      for (const s of [exact, oldest]) {
        await s.until((x) => x.events.length === 2);
        expect(s.events.map((e) => Number(e.position))).to.deep.equal([5, 6]);
        s.cancel();
      }
    } finally {
      events.close();
    }
  });

  it('ends open subscriptions with UNAVAILABLE when the server shuts down', async () => {
    const events = eventClient(t.address);
    try {
      const s = new Subscription(events, { start: { $case: 'fromNow', value: true } });
      await new Promise((r) => setTimeout(r, 200));
      const started = Date.now();
      await t.stop();
      const err = await s.failure();
      expect(err.code).to.equal(status.UNAVAILABLE);
      expect(err.details).to.contain('shutting down');
      expect(Date.now() - started).to.be.below(5000); // did not wait for the drain timeout
    } finally {
      events.close();
    }
  });
});
