import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { MikroORM } from '@mikro-orm/postgresql';
import { createDynamoClient, DynamoAppender } from '../../src/events/dynamo-appender.js';
import { OutboxRelay } from '../../src/events/relay.js';
import { ensureEventTable } from '../../src/events/table-check.js';
import type { EventEnvelope } from '../../src/events/types.js';
import { openOrm } from '../../src/persistence/orm.js';
import { UnitOfWork } from '../../src/persistence/unit-of-work.js';
import { waitFor } from '../support/events.js';
import { readStream } from '../support/dynamo.js';
import { dynamoEndpoint, freshDatabase, freshTableName, quietLog } from '../support/stack.js';

/**
 * RELAY_LINGER_MS and RELAY_MARK_LINGER_MS: the immediate path's requests and the
 * `appended_at` marks, spaced while commits come back to back, against the real databases.
 */
describe('relay linger: back-to-back commits share a DynamoDB request and a mark (int)', function () {
  this.timeout(120_000);
  let orm: MikroORM;
  let appender: DynamoAppender;
  let relay: OutboxRelay;
  let uow: UnitOfWork;
  let table: string;
  /** Every appendAll of the relay: how many events, and when it started. */
  const requests: Array<{ events: number; at: number }> = [];
  const ctx = { correlationId: 'linger', actor: 'test-actor', actsForOthers: false };

  before(async () => {
    orm = await openOrm({ url: await freshDatabase(), poolMin: 0 });
    table = freshTableName();
    appender = new DynamoAppender(createDynamoClient({ endpoint: dynamoEndpoint(), region: 'us-east-1', table }), table, quietLog);
    await ensureEventTable(appender.client, table, quietLog);
    const appendAll = appender.appendAll.bind(appender);
    appender.appendAll = (events: readonly EventEnvelope[]) => {
      requests.push({ events: events.length, at: performance.now() });
      return appendAll(events);
    };
  });
  after(async () => {
    appender.client.destroy();
    await orm.close();
  });
  afterEach(async () => {
    await relay.stop(5000);
    requests.length = 0;
  });

  function startRelay(lingerMs: number, markLingerMs: number): void {
    relay = new OutboxRelay(orm, appender, quietLog, { intervalMs: 60_000, batchSize: 200, lingerMs, markLingerMs });
    uow = new UnitOfWork({ clock: () => new Date(), newId: randomUUID });
    uow.onCommit(relay.committed);
    relay.start();
  }

  const record = (streams: string[]) =>
    uow.run(orm.em.fork(), ctx, async (tx) => {
      for (const s of streams) tx.record(`item#${s}`, 1, { type: 'ItemCreated', data: { sku: s, name: 'n', description: '' } });
    });
  /** Rows marked, and the mark statements that marked them (each writes its own appended_at). */
  const marks = async (prefix: string) =>
    ((await orm.em
      .fork()
      .execute(`select count(*)::int as rows, count(distinct appended_at)::int as statements from event_outbox where appended_at is not null and stream_id like ?`, [
        `item#${prefix}%`,
      ])) as Array<{ rows: number; statements: number }>)[0]!;

  it('RELAY_LINGER_MS: a lone commit goes at once; the commits right after it wait for one request; a full batch never waits', async () => {
    startRelay(1500, 0);
    let t0 = performance.now();
    await record(['R-ONE']);
    await waitFor(async () => (await readStream(table, 'item#R-ONE')).length === 1, 10_000, 'the lone event in DynamoDB');
    expect(requests).to.have.length(1);
    expect(requests[0]!.at - t0, 'a lone commit does not linger').to.be.below(1000);

    // Three commits right after it: one request for the three, once the linger is over.
    for (const s of ['R-TWO', 'R-THREE', 'R-FOUR']) await record([s]);
    await waitFor(() => requests.length === 2, 10_000, 'the lingered request');
    expect(requests[1]!.events).to.equal(3);
    expect(requests[1]!.at - requests[0]!.at).to.be.at.least(1400);

    // A full batch (25 events) right after a request goes at once.
    t0 = performance.now();
    await record(Array.from({ length: 25 }, (_, i) => `R-FULL-${i}`));
    await waitFor(() => requests.length === 3, 10_000, 'the full batch');
    expect(requests[2]!.events).to.equal(25);
    expect(requests[2]!.at - t0, 'a full batch does not linger').to.be.below(1000);
    for (const s of ['R-ONE', 'R-TWO', 'R-THREE', 'R-FOUR', 'R-FULL-0', 'R-FULL-24']) {
      await waitFor(async () => (await readStream(table, `item#${s}`)).length === 1, 10_000, `${s} in DynamoDB`);
    }
    await relay.sweep();
    expect((await marks('R-')).rows).to.equal(29);
  });

  it('RELAY_MARK_LINGER_MS: the first mark goes at once, the next ones wait and share a statement, a sweep writes them at once', async () => {
    startRelay(0, 5000);
    await record(['M-1']);
    await waitFor(async () => (await marks('M-')).rows === 1, 2000, 'the first mark, at once');
    // Three more appends, each its own request (no request linger), within the mark linger.
    for (const s of ['M-2', 'M-3', 'M-4']) {
      await record([s]);
      await waitFor(async () => (await readStream(table, `item#${s}`)).length === 1, 10_000, `${s} in DynamoDB`);
    }
    expect(requests).to.have.length(4);
    expect((await marks('M-')).rows, 'the next marks wait').to.equal(1);
    const t0 = performance.now();
    await relay.sweep();
    expect(performance.now() - t0, 'the sweep does not wait for the mark linger').to.be.below(2500);
    expect(await marks('M-')).to.deep.equal({ rows: 4, statements: 2 });
    expect(requests).to.have.length(4); // the sweep found nothing left to append
  });
});
