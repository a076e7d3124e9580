import { expect } from 'chai';
import { matcherOf, type FeedFilter } from '../../src/events/feed/filter.js';
import { LiveIndex } from '../../src/events/feed/live-index.js';
import type { EventEnvelope, EventType } from '../../src/events/types.js';
import { mulberry32 } from '../support/random.js';

const ev = (streamId: string, type: EventType, position = 1): EventEnvelope => ({
  eventId: `e${position}`,
  streamId,
  version: 1,
  type,
  schemaVersion: 1,
  correlationId: 'c',
  occurredAt: new Date(0),
  data: {} as EventEnvelope['data'],
  position,
});

const visited = <T>(index: LiveIndex<T>, e: EventEnvelope): T[] => {
  const out: T[] = [];
  index.forEachMatch(e, (s) => out.push(s));
  return out;
};


describe('live subscriber index (unit)', () => {
  it('finds exactly the subscribers whose filter matches: none, prefix only, types only, both', () => {
    const index = new LiveIndex<string>();
    index.add('everything', { streamIdPrefix: '', eventTypes: [] });
    index.add('items', { streamIdPrefix: 'item#', eventTypes: [] });
    index.add('item A', { streamIdPrefix: 'item#A', eventTypes: [] });
    index.add('whole id', { streamIdPrefix: 'item#A-1', eventTypes: [] });
    index.add('longer than the id', { streamIdPrefix: 'item#A-1#x', eventTypes: [] });
    index.add('created', { streamIdPrefix: '', eventTypes: ['ItemCreated'] });
    index.add('created or updated', { streamIdPrefix: '', eventTypes: ['ItemCreated', 'StockAdjusted', 'ItemCreated'] });
    index.add('warehouse updates', { streamIdPrefix: 'warehouse#', eventTypes: ['WarehouseUpdated'] });
    index.add('item A updates', { streamIdPrefix: 'item#A', eventTypes: ['StockAdjusted'] });
    const sorted = (xs: string[]) => [...xs].sort();

    expect(sorted(visited(index, ev('item#A-1', 'ItemCreated')))).to.deep.equal(
      sorted(['everything', 'items', 'item A', 'whole id', 'created', 'created or updated']),
    );
    expect(sorted(visited(index, ev('item#A-1', 'StockAdjusted')))).to.deep.equal(
      sorted(['everything', 'items', 'item A', 'whole id', 'created or updated', 'item A updates']),
    );
    expect(sorted(visited(index, ev('item#B', 'StockAdjusted')))).to.deep.equal(sorted(['everything', 'items', 'created or updated']));
    expect(sorted(visited(index, ev('warehouse#W', 'WarehouseUpdated')))).to.deep.equal(sorted(['everything', 'warehouse updates']));
    expect(visited(index, ev('warehouse#W', 'WarehouseCreated'))).to.deep.equal(['everything']);
    expect(index.size).to.equal(9);
  });

  it('agrees with the in-memory filter on random filters and events, through adds and removes, and empties completely', () => {
    const random = mulberry32(13);
    const pick = <X>(xs: readonly X[]): X => xs[Math.floor(random() * xs.length)]!;
    const types: EventType[] = ['ItemCreated', 'StockAdjusted', 'StockReceived', 'StockAllocated', 'WarehouseUpdated'];
    const ids = ['item#A', 'item#AB', 'item#B-1', 'stock#A#W1', 'stock#A#W2', 'stock#AB#W1', 'warehouse#W1', 's', ''];
    const prefixes = ['', '', 'i', 'item#', 'item#A', 'item#AB', 'stock#', 'stock#A#', 'stock#A#W1', 'stock#A#W1#more', 'warehouse#', 'x'];
    const randomFilter = (): FeedFilter => ({
      streamIdPrefix: pick(prefixes),
      eventTypes: random() < 0.4 ? [] : Array.from({ length: 1 + Math.floor(random() * 3) }, () => pick(types)),
    });
    const index = new LiveIndex<number>();
    const filters = new Map<number, FeedFilter>();
    let next = 0;
    for (let round = 0; round < 300; round++) {
      if (filters.size > 0 && random() < 0.4) {
        const victim = pick([...filters.keys()]);
        filters.delete(victim);
        index.remove(victim);
      } else {
        const f = randomFilter();
        filters.set(next, f);
        index.add(next++, f);
      }
      for (let k = 0; k < 5; k++) {
        const e = ev(pick(ids), pick(types));
        const expected = [...filters].filter(([, f]) => matcherOf(f)(e)).map(([s]) => s).sort((a, b) => a - b);
        const got = visited(index, e).sort((a, b) => a - b);
        expect(got, `${e.streamId} ${e.type}`).to.deep.equal(expected); // each once: no duplicates either
      }
      expect(index.size).to.equal(filters.size);
    }
    for (const s of [...filters.keys()]) index.remove(s);
    index.remove(12345); // unknown: nothing happens
    expect([index.size, index.prefixes]).to.deep.equal([0, 0]);
    expect(visited(index, ev('item#A', 'ItemCreated'))).to.deep.equal([]);
  });

  it('a visitor may remove subscribers (the one visited or others) without any other subscriber being skipped', () => {
    const index = new LiveIndex<string>();
    // Each in its own prefix length, so removals change the lengths in use during the walk.
    const all = ['', 's', 'st', 'sto', 'stoc', 'stock', 'stock#', 'stock#A'].map((p) => {
      index.add(`p:${p}`, { streamIdPrefix: p, eventTypes: [] });
      index.add(`t:${p}`, { streamIdPrefix: p, eventTypes: ['StockReceived'] });
      return p;
    });
    const seen: string[] = [];
    index.forEachMatch(ev('stock#A#W', 'StockReceived'), (s) => {
      seen.push(s);
      index.remove(s); // overflowed
      if (s === 'p:') index.remove('t:s'); // and another one left meanwhile
    });
    const expected = all.flatMap((p) => [`p:${p}`, `t:${p}`]).filter((s) => s !== 't:s');
    expect([...seen].sort()).to.deep.equal(expected.sort());
    expect([index.size, index.prefixes]).to.deep.equal([0, 0]);
  });

  it('refuses the same subscriber twice', () => {
    const index = new LiveIndex<string>();
    index.add('a', { streamIdPrefix: '', eventTypes: [] });
    expect(() => index.add('a', { streamIdPrefix: 'x', eventTypes: [] })).to.throw(/twice/);
  });
});
