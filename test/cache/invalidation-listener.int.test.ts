import { expect } from 'chai';
import pg from 'pg';
import { CACHE_CHANNEL, InvalidationListener } from '../../src/cache/invalidation-listener.js';
import { ReadCache } from '../../src/cache/read-cache.js';
import { eventually } from '../support/dynamo.js';
import { freshDatabase, quietLog } from '../support/stack.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

const box = (n: number) => ({ n });

describe('cache invalidation over LISTEN/NOTIFY (int)', () => {
  let url: string;
  let db: pg.Client;
  const listeners: InvalidationListener[] = [];
  let versions = 0;

  before(async () => {
    url = await freshDatabase();
    db = new pg.Client({ connectionString: url });
    await db.connect();
  });
  after(async () => {
    for (const l of listeners) await l.stop();
    await db.end();
  });

  async function startListener(options: { url?: string; heartbeatMs?: number } = {}) {
    const cache = new ReadCache({ maxEntries: 1000, ttlMs: 60_000 });
    const listener = new InvalidationListener(cache, {
      url: options.url ?? url,
      connectTimeoutMs: 2000,
      heartbeatMs: options.heartbeatMs ?? 5000,
      log: quietLog,
      retryMinMs: 20,
      retryMaxMs: 200,
    });
    listeners.push(listener);
    await listener.start();
    return { cache, listener };
  }

  /** Records an event in the outbox the way the unit of work does: in a transaction. */
  async function record(streamId: string, outcome: 'commit' | 'rollback' = 'commit') {
    await db.query('begin');
    await db.query(
      `insert into event_outbox (event_id, stream_id, version, type, payload, correlation_id, occurred_at)
       values (gen_random_uuid(), $1, $2, 'Test', '{}', 'test', now())`,
      [streamId, ++versions],
    );
    await db.query(outcome);
  }

  it('a committed event invalidates its entry; a rolled-back one does not', async () => {
    const { cache, listener } = await startListener();
    expect(listener.listening).to.equal(true);
    await cache.read('item#A', async () => box(1));
    await cache.read('item#B', async () => box(2));

    await record('item#A', 'rollback');
    await record('item#B'); // notifications arrive in commit order: once B is gone, A's would have come
    await eventually(async () => expect(cache.get('item#B')).to.equal(undefined));
    expect(cache.get('item#A')).to.deep.equal({ n: 1 });

    await record('item#A');
    await eventually(async () => expect(cache.get('item#A')).to.equal(undefined));
  });

  it('NOTIFY with "*" clears every entry', async () => {
    const { cache } = await startListener();
    await cache.read('item#A', async () => box(1));
    await db.query(`select pg_notify($1, '*')`, [CACHE_CHANNEL]);
    await eventually(async () => expect(cache.stats().size).to.equal(0));
  });

  it('a dropped connection clears and bypasses the cache until LISTEN is back', async () => {
    const { cache, listener } = await startListener();
    await cache.read('warehouse#W', async () => box(1));
    const killed = await db.query(
      `select pg_terminate_backend(pid) from pg_stat_activity
        where application_name = 'inventory-cache-listener' and datname = current_database()`,
    );
    expect(killed.rowCount).to.be.greaterThan(0);
    // The change below may happen while nobody listens: its notification is lost.
    await record('warehouse#W');
    // Whatever the timing, the old value is never served again.
    await eventually(async () => {
      expect(listener.listening).to.equal(true); // reconnected
      expect(await cache.read('warehouse#W', async () => box(2))).to.deep.equal({ n: 2 });
    });
    expect(cache.stats().clears).to.be.at.least(2); // suspend, then resume
    await record('warehouse#W'); // and the new connection delivers again
    await eventually(async () => expect(cache.get('warehouse#W')).to.equal(undefined));
  });

  describe('a connection that goes silent', () => {
    let proxy: TcpProxy;
    before(async () => {
      proxy = await startTcpProxy(Number(new URL(url).port));
    });
    after(() => proxy.close());

    it('is noticed by the heartbeat: the cache is bypassed, then resumes on a new connection', async () => {
      const proxied = new URL(url);
      proxied.port = String(proxy.port);
      const { cache, listener } = await startListener({ url: proxied.toString(), heartbeatMs: 200 });
      await cache.read('item#S', async () => box(1));
      proxy.freeze(); // no error, no close: notifications simply stop arriving
      await record('item#S');
      // Within a couple of heartbeats the cache stops trusting itself...
      await eventually(async () => expect(cache.get('item#S')).to.equal(undefined), 10_000);
      // ...and a new connection through the proxy brings it back.
      await eventually(async () => expect(listener.listening).to.equal(true), 10_000);
      await cache.read('item#S', async () => box(2));
      expect(cache.get('item#S')).to.deep.equal({ n: 2 });
    });
  });
});
