import { expect } from 'chai';
import { availabilityKey, invalidationFor } from '../../src/cache/keys.js';
import { ReadCache } from '../../src/cache/read-cache.js';

/** A promise whose settlement the test controls. */
function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const box = (n: number) => ({ n });

describe('ReadCache (unit)', () => {
  let now: number;
  let cache: ReadCache;
  beforeEach(() => {
    now = 1_000;
    cache = new ReadCache({ maxEntries: 100, ttlMs: 1_000, perf: { now: () => now } });
    cache.resume();
  });

  it('loads on a miss, serves the next read from memory and counts both', async () => {
    let loads = 0;
    const load = async () => box(++loads);
    expect(await cache.read('item#A', load)).to.deep.equal({ n: 1 });
    expect(await cache.read('item#A', load)).to.deep.equal({ n: 1 });
    expect(loads).to.equal(1);
    expect(cache.stats()).to.include({ hits: 1, misses: 1, stored: 1, size: 1 });
  });

  it('consistent reads skip the lookup and refresh the entry', async () => {
    let loads = 0;
    const load = async () => box(++loads);
    await cache.read('item#A', load);
    expect(await cache.read('item#A', load, true)).to.deep.equal({ n: 2 });
    expect(await cache.read('item#A', load)).to.deep.equal({ n: 2 });
    expect(cache.stats()).to.include({ bypassed: 1, hits: 1 });
  });

  it('does not store failed loads', async () => {
    const err = await cache.read('item#A', async () => Promise.reject(new Error('boom'))).catch((e: Error) => e);
    expect((err as Error).message).to.equal('boom');
    expect(cache.stats().size).to.equal(0);
    expect(await cache.read('item#A', async () => box(7))).to.deep.equal({ n: 7 });
  });

  it('stays within maxEntries under many distinct keys, evicting the least recently used', async () => {
    const small = new ReadCache({ maxEntries: 50, ttlMs: 60_000 });
    small.resume();
    for (let i = 0; i < 1_000; i++) {
      await small.read(`item#K${i}`, async () => box(i));
      if (i % 10 === 0) await small.read('item#K0', async () => box(-1)); // keep K0 recently used
      expect(small.stats().size).to.be.at.most(50);
    }
    expect(small.stats()).to.include({ size: 50, evictions: 1_000 - 50 });
    expect(small.get('item#K0')).to.deep.equal({ n: 0 });
    expect(small.get('item#K1')).to.equal(undefined);
    expect(small.get('item#K999')).to.deep.equal({ n: 999 });
  });

  it('expires entries ttlMs after they were loaded, however often they are read', async () => {
    let loads = 0;
    const load = async () => box(++loads);
    await cache.read('item#A', load);
    now += 600;
    await cache.read('item#A', load);
    now += 600; // 1200 ms after the load
    expect(await cache.read('item#A', load)).to.deep.equal({ n: 2 });
    expect(loads).to.equal(2);
  });

  it('never stores a load that an invalidation overtook (the miss/commit race)', async () => {
    const slow = deferred<{ n: number }>();
    const reading = cache.read('stock#S#W', () => slow.promise);
    cache.invalidateStream('stock#S#W'); // a change committed while the read was at the database
    slow.resolve(box(1)); // the pre-commit value
    expect(await reading).to.deep.equal({ n: 1 }); // the caller still gets an answer
    expect(cache.get('stock#S#W')).to.equal(undefined); // but it is not kept
    expect(cache.stats().discarded).to.equal(1);
    expect(await cache.read('stock#S#W', async () => box(2))).to.deep.equal({ n: 2 });
    expect(cache.get('stock#S#W')).to.deep.equal({ n: 2 });
  });

  it('never stores a load that a clear overtook', async () => {
    const slow = deferred<{ n: number }>();
    const reading = cache.read('item#A', () => slow.promise);
    cache.clear();
    slow.resolve(box(1));
    await reading;
    expect(cache.get('item#A')).to.equal(undefined);
  });

  it('lets concurrent misses share one load, but not across an invalidation', async () => {
    const first = deferred<{ n: number }>();
    const second = deferred<{ n: number }>();
    let loads = 0;
    const load = () => (++loads === 1 ? first.promise : second.promise);
    const a = cache.read('item#A', load);
    const b = cache.read('item#A', load); // joins a
    cache.invalidateStream('item#A');
    const c = cache.read('item#A', load); // must not join a: a may predate the change
    expect(loads).to.equal(2);
    first.resolve(box(1));
    second.resolve(box(2));
    expect(await a).to.deep.equal({ n: 1 });
    expect(await b).to.deep.equal({ n: 1 });
    expect(await c).to.deep.equal({ n: 2 });
    expect(cache.get('item#A')).to.deep.equal({ n: 2 });
  });

  it('batch tickets obey the same rule, key by key', () => {
    const t1 = cache.begin('stock#A#W');
    const t2 = cache.begin('stock#B#W');
    cache.invalidateStream('stock#A#W');
    cache.settle(t1, box(1));
    cache.settle(t2, box(2));
    expect(cache.get('stock#A#W')).to.equal(undefined);
    expect(cache.get('stock#B#W')).to.deep.equal({ n: 2 });
  });

  it('a stock change invalidates the level and the availability of its sku', async () => {
    await cache.read('stock#S1#W1', async () => box(1));
    await cache.read('stock#S1#W2', async () => box(2));
    await cache.read(availabilityKey('S1'), async () => box(3));
    await cache.read(availabilityKey('S2'), async () => box(4));
    cache.invalidateStream('stock#S1#W1');
    expect(cache.get('stock#S1#W1')).to.equal(undefined);
    expect(cache.get('stock#S1#W2')).to.deep.equal({ n: 2 });
    expect(cache.get(availabilityKey('S1'))).to.equal(undefined);
    expect(cache.get(availabilityKey('S2'))).to.deep.equal({ n: 4 });
  });

  it('a warehouse change invalidates the warehouse and every availability', async () => {
    await cache.read('warehouse#W1', async () => box(1));
    await cache.read('warehouse#W2', async () => box(2));
    await cache.read(availabilityKey('S1'), async () => box(3));
    await cache.read('stock#S1#W1', async () => box(4));
    const pending = deferred<{ n: number }>();
    const loading = cache.read(availabilityKey('S2'), () => pending.promise);
    cache.invalidateStream('warehouse#W1');
    pending.resolve(box(5));
    await loading;
    expect(cache.get('warehouse#W1')).to.equal(undefined);
    expect(cache.get('warehouse#W2')).to.deep.equal({ n: 2 });
    expect(cache.get(availabilityKey('S1'))).to.equal(undefined);
    expect(cache.get(availabilityKey('S2'))).to.equal(undefined);
    expect(cache.get('stock#S1#W1')).to.deep.equal({ n: 4 });
  });

  it('maps stream ids to invalidations; unknown kinds clear everything', () => {
    expect(invalidationFor('item#A')).to.deep.equal({ kind: 'keys', keys: ['item#A'], prefixes: [] });
    expect(invalidationFor('stock#A.b#W-1')).to.deep.equal({ kind: 'keys', keys: ['stock#A.b#W-1', 'availability#A.b'], prefixes: [] });
    expect(invalidationFor('allocation#o-1')).to.deep.equal({ kind: 'keys', keys: [], prefixes: [] });
    expect(invalidationFor('incoming#A.b#PO-1:2')).to.deep.equal({ kind: 'keys', keys: ['availability#A.b'], prefixes: [] });
    expect(invalidationFor('incoming#broken')).to.deep.equal({ kind: 'all' });
    expect(invalidationFor('something#new')).to.deep.equal({ kind: 'all' });
    expect(invalidationFor('stock#broken')).to.deep.equal({ kind: 'all' });
  });

  it('while suspended every read goes to the database and nothing is kept', async () => {
    await cache.read('item#A', async () => box(1));
    cache.suspend();
    expect(cache.active).to.equal(false);
    expect(await cache.read('item#A', async () => box(2))).to.deep.equal({ n: 2 });
    expect(cache.stats()).to.include({ size: 0, bypassed: 1 });
    const slow = deferred<{ n: number }>();
    cache.resume();
    const reading = cache.read('item#A', () => slow.promise);
    cache.suspend();
    slow.resolve(box(3));
    await reading;
    cache.resume();
    expect(cache.get('item#A')).to.equal(undefined);
  });

  describe('readMany', () => {
    it('serves hits from memory and loads every miss in one call; unknown keys are not cached', async () => {
      await cache.read('stock#A#W', async () => box(1));
      const calls: Array<readonly string[]> = [];
      const loadMissing = async (missing: readonly string[]) => {
        calls.push(missing);
        return new Map(missing.filter((k) => k !== 'stock#NOPE#W').map((k) => [k, box(2)] as const));
      };
      const got = await cache.readMany(['stock#A#W', 'stock#B#W', 'stock#NOPE#W', 'stock#B#W', 'stock#C#W'], loadMissing);
      expect(calls).to.deep.equal([['stock#B#W', 'stock#NOPE#W', 'stock#C#W']]);
      expect([...got]).to.deep.equal([
        ['stock#A#W', { n: 1 }],
        ['stock#B#W', { n: 2 }],
        ['stock#NOPE#W', undefined],
        ['stock#C#W', { n: 2 }],
      ]);
      expect(cache.get('stock#B#W')).to.deep.equal({ n: 2 });
      expect(cache.get('stock#NOPE#W')).to.equal(undefined);
      // All hits now: no load at all.
      await cache.readMany(['stock#A#W', 'stock#B#W'], loadMissing);
      expect(calls).to.have.length(1);
    });

    it('consistent loads every key, and still refreshes the cache', async () => {
      await cache.read('stock#A#W', async () => box(1));
      const got = await cache.readMany(['stock#A#W'], async (m) => new Map(m.map((k) => [k, box(9)] as const)), true);
      expect(got.get('stock#A#W')).to.deep.equal({ n: 9 });
      expect(cache.get('stock#A#W')).to.deep.equal({ n: 9 });
    });

    it('does not store a key whose invalidation overtook the batch load', async () => {
      const slow = deferred<ReadonlyMap<string, { n: number }>>();
      const reading = cache.readMany(['stock#A#W', 'stock#B#W'], () => slow.promise);
      cache.invalidateStream('stock#A#W');
      slow.resolve(new Map([['stock#A#W', box(1)], ['stock#B#W', box(2)]]));
      await reading;
      expect(cache.get('stock#A#W')).to.equal(undefined);
      expect(cache.get('stock#B#W')).to.deep.equal({ n: 2 });
    });

    it('a failed batch load stores nothing and leaves no bookkeeping behind', async () => {
      const err = await cache.readMany(['stock#A#W'], async () => Promise.reject(new Error('down'))).catch((e: Error) => e);
      expect((err as Error).message).to.equal('down');
      expect((cache as unknown as { keyStates: Map<string, unknown> }).keyStates.size).to.equal(0);
    });
  });

  it('maxEntries 0 turns the cache off for good', async () => {
    const off = new ReadCache({ maxEntries: 0, ttlMs: 1000 });
    off.resume();
    expect(off.enabled).to.equal(false);
    expect(off.active).to.equal(false);
    let loads = 0;
    await off.read('item#A', async () => box(++loads));
    await off.read('item#A', async () => box(++loads));
    expect(loads).to.equal(2);
  });

  it('forgets the bookkeeping of finished loads', async () => {
    for (let i = 0; i < 100; i++) await cache.read(`item#${i}`, async () => box(i));
    const internal = cache as unknown as { keyStates: Map<string, unknown> };
    expect(internal.keyStates.size).to.equal(0);
  });
});
