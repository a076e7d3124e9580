import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
import { FEED_CHANNEL, FeedSequencer } from '../../src/events/feed/sequencer.js';
import type { EventEnvelope } from '../../src/events/types.js';
import { openOrm } from '../../src/persistence/orm.js';
import { freshDatabase, quietLog } from '../support/stack.js';
import { waitFor } from '../support/events.js';

/** What one sequencer told its listener, in order. */
class Recorder {
  readonly committing: number[] = [];
  readonly batches: Array<{ last: number; events: readonly EventEnvelope[] }> = [];
  readonly calls: string[] = [];
  readonly listener = {
    committing: (last: number) => {
      this.committing.push(last);
      this.calls.push(`committing ${last}`);
    },
    sequenced: (last: number, events: readonly EventEnvelope[]) => {
      this.batches.push({ last, events });
      this.calls.push(`sequenced ${last}`);
    },
  };
}

async function insertRows(client: pg.Client, prefix: string, count: number): Promise<void> {
  await client.query('begin');
  for (let i = 0; i < count; i++) {
    const sku = `${prefix}-${i}`;
    await client.query(
      `insert into event_outbox (event_id, stream_id, version, type, schema_version, payload, correlation_id, occurred_at)
       values ($1, $2, 1, 'ItemCreated', 1, $3, 'seq', now())`,
      [randomUUID(), `item#${sku}`, JSON.stringify({ sku, name: sku, description: '' })],
    );
  }
  await client.query('commit');
}

describe('feed sequencer: one function call per pass (int)', function () {
  this.timeout(120_000);
  let url: string;
  let orm: MikroORM;
  const clients: pg.Client[] = [];
  const connect = async () => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    clients.push(c);
    return c;
  };

  beforeEach(async () => {
    url = await freshDatabase();
    orm = await openOrm({ url, poolMin: 0 });
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.end().catch(() => undefined);
    await orm.close();
  });

  it('numbers committed rows in one batch, moves last_position, notifies at commit and hands the batch over', async () => {
    const writer = await connect();
    const listen = await connect();
    const heard: string[] = [];
    listen.on('notification', (m) => heard.push(m.payload ?? ''));
    await listen.query(`LISTEN ${FEED_CHANNEL}`);
    await insertRows(writer, 'A', 3);
    const r = new Recorder();
    const seq = new FeedSequencer(orm, quietLog, { batchSize: 100, pollMs: 60_000 }, r.listener);

    expect(await seq.sequenceOnce()).to.equal(3);
    expect(r.calls).to.deep.equal(['committing Infinity', 'committing 3', 'sequenced 3']);
    expect(r.batches[0]!.events.map((e) => [e.position, e.streamId])).to.deep.equal([
      [1, 'item#A-0'],
      [2, 'item#A-1'],
      [3, 'item#A-2'],
    ]);
    const stored = await writer.query('select event_id, position from event_outbox order by position');
    expect(stored.rows.map((x: { event_id: string }) => x.event_id)).to.deep.equal(r.batches[0]!.events.map((e) => e.eventId));
    expect((await writer.query('select last_position from event_feed')).rows[0].last_position).to.equal('3');
    await waitFor(() => heard.length === 1, 5000, 'the NOTIFY');
    expect(heard).to.deep.equal(['3']);

    // Nothing waiting: no position moves, no NOTIFY.
    expect(await seq.sequenceOnce()).to.equal(0);
    expect(r.calls.slice(3)).to.deep.equal(['committing Infinity', 'committing 0']);
    await new Promise((res) => setTimeout(res, 200));
    expect(heard).to.deep.equal(['3']);
  });

  it('reports busy, numbers nothing and notifies nothing while another transaction holds the feed row', async () => {
    const writer = await connect();
    const holder = await connect();
    const listen = await connect();
    const heard: string[] = [];
    listen.on('notification', (m) => heard.push(m.payload ?? ''));
    await listen.query(`LISTEN ${FEED_CHANNEL}`);
    await insertRows(writer, 'B', 2);
    const r = new Recorder();
    const seq = new FeedSequencer(orm, quietLog, { batchSize: 100, pollMs: 60_000 }, r.listener);

    await holder.query('begin');
    await holder.query('select * from event_feed where id = 1 for update');
    expect(await seq.sequenceOnce()).to.equal(undefined);
    expect(seq.stats.busy).to.equal(1);
    expect(r.calls).to.deep.equal(['committing Infinity', 'committing 0']);
    expect((await writer.query('select count(*)::int as n from event_outbox where position is null')).rows[0].n).to.equal(2);
    await holder.query('commit');
    await new Promise((res) => setTimeout(res, 200));
    expect(heard).to.deep.equal([]);

    expect(await seq.sequenceOnce()).to.equal(2);
    await waitFor(() => heard.length === 1, 5000, 'the NOTIFY');
    expect(heard).to.deep.equal(['2']);
  });

  it('a batch larger than batchSize takes several passes, each continuing from the last', async () => {
    const writer = await connect();
    await insertRows(writer, 'C', 7);
    const r = new Recorder();
    const seq = new FeedSequencer(orm, quietLog, { batchSize: 3, pollMs: 60_000 }, r.listener);
    seq.start();
    try {
      await waitFor(() => r.batches.reduce((n, b) => n + b.events.length, 0) === 7, 10_000, 'every row numbered');
    } finally {
      await seq.stop();
    }
    expect(r.batches.map((b) => b.last)).to.deep.equal([3, 6, 7]);
    expect(r.batches.flatMap((b) => b.events.map((e) => e.position))).to.deep.equal([1, 2, 3, 4, 5, 6, 7]);
  });

  it('three instances and eight writers: every row gets one position, gapless, each handed over by exactly one instance', async function () {
    const orms = [orm, await openOrm({ url, poolMin: 0 }), await openOrm({ url, poolMin: 0 })];
    const recorders = orms.map(() => new Recorder());
    const sequencers = orms.map((o, i) => new FeedSequencer(o, quietLog, { batchSize: 7, pollMs: 5 }, recorders[i]!.listener));
    const writers = 8;
    const transactions = 40;
    try {
      for (const s of sequencers) s.start();
      await Promise.all(
        Array.from({ length: writers }, async (_, w) => {
          const c = await connect();
          for (let t = 0; t < transactions; t++) {
            await insertRows(c, `W${w}-${t}`, 1 + ((w + t) % 3));
            for (const s of sequencers) s.kick();
          }
        }),
      );
      const total = Array.from({ length: writers }, (_, w) => Array.from({ length: transactions }, (_, t) => 1 + ((w + t) % 3))).flat().reduce((a, b) => a + b, 0);
      await waitFor(() => sequencers.reduce((n, s) => n + s.stats.sequenced, 0) >= total, 30_000, 'every row numbered');
      for (const s of sequencers) await s.stop();

      const check = await connect();
      const rows = (await check.query('select event_id, position from event_outbox order by position')).rows as Array<{ event_id: string; position: string | null }>;
      expect(rows.length).to.equal(total);
      expect(rows.map((x) => Number(x.position))).to.deep.equal(Array.from({ length: total }, (_, i) => i + 1));
      expect((await check.query('select last_position from event_feed')).rows[0].last_position).to.equal(String(total));

      // Handed over: each position once, by one instance, with the event stored at it.
      const handed = new Map<number, string>();
      for (const r of recorders) {
        for (const b of r.batches) {
          const positions = b.events.map((e) => e.position!);
          expect(positions).to.deep.equal(Array.from({ length: positions.length }, (_, i) => b.last - positions.length + 1 + i));
          for (const e of b.events) {
            expect(handed.has(e.position!), `position ${e.position} handed over twice`).to.equal(false);
            handed.set(e.position!, e.eventId);
          }
        }
        // Every hand-over follows the pass's range, and every pass starts unknown.
        for (const [i, call] of r.calls.entries()) {
          if (call.startsWith('sequenced')) expect(r.calls[i - 1]).to.equal(call.replace('sequenced', 'committing'));
          if (call === 'committing Infinity') expect(r.calls[i + 1] ?? 'committing 0').to.not.equal('committing Infinity');
        }
      }
      expect(handed.size).to.equal(total);
      for (const row of rows) expect(handed.get(Number(row.position))).to.equal(row.event_id);
      const busy = sequencers.map((s) => s.stats.busy);
      const passes = sequencers.map((s) => s.stats.passes);
      // Informative: how often instances met at the lock in this run.
      this.test!.title += ` (passes ${passes.join('/')}, busy ${busy.join('/')})`;
    } finally {
      for (const s of sequencers) await s.stop();
      for (const o of orms.slice(1)) await o.close();
    }
  });
});
