import { expect } from 'chai';
import { matcherOf } from '../../src/events/feed/filter.js';
import { LiveSubscriber } from '../../src/events/feed/live.js';
import { FeedWindow } from '../../src/events/feed/window.js';
import { ConcurrencyGate } from '../../src/events/gate.js';
import type { EventEnvelope, EventType } from '../../src/events/types.js';
import { DomainError } from '../../src/inventory/errors.js';

const at = new Date('2026-01-01T00:00:00Z');
const ev = (position: number, streamId = `item#S-${position}`, type: EventType = 'ItemCreated'): EventEnvelope => ({
  eventId: `e${position}`,
  streamId,
  version: 1,
  type,
  schemaVersion: 1,
  correlationId: 'c',
  occurredAt: at,
  data: { sku: `S-${position}`, name: 'n', description: '' } as EventEnvelope['data'],
  position,
});
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => ev(from + i));
const all = matcherOf({ streamIdPrefix: '', eventTypes: [] });
const positions = (es: EventEnvelope[]) => es.map((e) => e.position);

describe('feed window, live subscriber and gate (unit)', () => {
  it('the window keeps the newest events, consecutive, and says when a cursor is older than it', () => {
    const w = new FeedWindow(5, 10);
    expect(w.after(10, all, 100)).to.deep.equal({ events: [], through: 10 });
    w.append(range(11, 18));
    expect([w.start, w.head, w.size]).to.deep.equal([13, 18, 5]);
    expect(w.after(12, all, 100)).to.equal(undefined);
    expect(positions(w.after(13, all, 100)!.events)).to.deep.equal([14, 15, 16, 17, 18]);
    const limited = w.after(13, all, 2)!;
    expect([positions(limited.events), limited.through]).to.deep.equal([[14, 15], 15]);
    expect(() => w.append([ev(20)])).to.throw(/expected position 19/);
    for (let p = 19; p <= 40; p++) w.append([ev(p)]); // compaction keeps the arithmetic right
    expect([w.start, w.head]).to.deep.equal([35, 40]);
    expect(positions(w.after(37, all, 100)!.events)).to.deep.equal([38, 39, 40]);
  });

  it('filters by type and stream prefix; `through` covers events filtered out', () => {
    const w = new FeedWindow(100, 0);
    w.append([ev(1, 'item#A'), ev(2, 'warehouse#W', 'WarehouseCreated'), ev(3, 'item#B'), ev(4, 'item#A2', 'ItemCreated')]);
    const prefixA = matcherOf({ streamIdPrefix: 'item#A', eventTypes: [] });
    expect(positions(w.after(0, prefixA, 10)!.events)).to.deep.equal([1, 4]);
    const warehouses = matcherOf({ streamIdPrefix: '', eventTypes: ['WarehouseCreated'] });
    expect(w.after(2, warehouses, 10)).to.deep.equal({ events: [], through: 4 });
    const both = matcherOf({ streamIdPrefix: 'item#B', eventTypes: ['ItemCreated'] });
    expect(positions(w.after(0, both, 10)!.events)).to.deep.equal([3]);
  });

  it('a live subscriber buffers what it is offered, skips what it already has, and detaches when its buffer is full', async () => {
    const abort = new AbortController();
    const s = new LiveSubscriber(12, 3);
    for (const e of range(11, 14)) expect(s.offer(e)).to.equal(true); // 11 and 12 were read before joining
    expect(s.cursor).to.equal(14);
    expect((await s.take(abort.signal))?.position).to.equal(13);
    expect([s.offer(ev(16)), s.offer(ev(17))]).to.deep.equal([true, true]); // 15 did not match: never offered
    expect(s.offer(ev(19))).to.equal(false); // 14, 16, 17 buffered: 19 does not fit
    expect(s.offer(ev(20))).to.equal(false);
    // Everything before 19 was offered while it was live: it goes on from 18.
    expect([s.detached, s.overflowed, s.cursor]).to.deep.equal([true, true, 18]);
    const rest: number[] = [];
    for (let e = await s.take(abort.signal); e !== undefined; e = await s.take(abort.signal)) rest.push(e.position!);
    expect(rest).to.deep.equal([14, 16, 17]);
  });

  it('a subscriber detached by the tail goes on from the last position the tail offered, or its own cursor if further', () => {
    const s = new LiveSubscriber(5, 10);
    s.offer(ev(7));
    s.detach(9);
    expect(s.cursor).to.equal(9);
    s.detach(20); // once detached, the cursor stays
    expect(s.cursor).to.equal(9);
    const ahead = new LiveSubscriber(30, 10); // joined with a catch-up page that read past the head
    ahead.detach(25);
    expect(ahead.cursor).to.equal(30);
  });

  it('a waiting subscriber wakes on an offer and on abort', async () => {
    const abort = new AbortController();
    const s = new LiveSubscriber(0, 10);
    const next = s.take(abort.signal);
    s.offer(ev(1));
    expect((await next)?.position).to.equal(1);
    const waiting = s.take(abort.signal);
    abort.abort();
    expect(await waiting).to.equal(undefined);
  });

  it('the gate admits `limit` holders, serves started callers first, queues the rest in order, refuses beyond the queue unless admitted, and honours abort', async () => {
    const gate = new ConcurrencyGate(1, 1, 'too many');
    const order: string[] = [];
    const first = await gate.acquire();
    const second = gate.acquire().then((r) => (order.push('second'), r));
    const refused = await gate.acquire().catch((e: unknown) => e);
    expect(refused).to.be.instanceOf(DomainError);
    expect((refused as DomainError).code).to.equal('RESOURCE_EXHAUSTED');
    expect((refused as DomainError).message).to.equal('too many');
    const admitted = gate.acquire(undefined, true).then((r) => (order.push('admitted'), r));
    const abort = new AbortController();
    const cancelled = gate.acquire(abort.signal, true).catch((e: Error) => e.name);
    abort.abort();
    expect(await cancelled).to.equal('AbortError');
    expect([gate.inUse, gate.waiting]).to.deep.equal([1, 2]);
    first();
    first(); // a second release of the same slot changes nothing
    (await admitted)();
    (await second)();
    expect(order).to.deep.equal(['admitted', 'second']);
    expect([gate.inUse, gate.waiting]).to.deep.equal([0, 0]);
  });
});
