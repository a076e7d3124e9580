import { performance } from 'node:perf_hooks';
import { matcherOf, type FeedFilter, type Matcher } from '../src/events/feed/filter.js';
import { LiveIndex } from '../src/events/feed/live-index.js';
import { LiveSubscriber } from '../src/events/feed/live.js';
import type { EventEnvelope } from '../src/events/types.js';

/**
 * The feed tail's fan-out alone, in one process, no I/O (`node dist/bench/feed-fanout.js`
 * after `make build`): the CPU each published event costs with N idle subscribers (filtered
 * like bench/feed.ts's: half by a stream prefix, half by a type, nothing written matches
 * them) and 5 that match. "scan" is the fan-out before the live index: every batch offered
 * to every live subscriber, which checks each event with its matcher. "index" is FeedTail's:
 * LiveIndex.forEachMatch, then LiveSubscriber.offer for the matching ones. Both run in
 * alternating rounds in the same process, so the ratio holds on a loaded machine better
 * than the end-to-end benchmark's numbers.
 *
 * Environment: BENCH_SUBSCRIBERS (default "0,1000,5000,20000"), BENCH_EVENTS (per round,
 * default 20,000), BENCH_BATCH (events per sequencer batch, default 4), BENCH_ROUNDS (default 7).
 */
const SUBSCRIBERS = (process.env.BENCH_SUBSCRIBERS ?? '0,1000,5000,20000').split(',').map(Number);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 20_000);
const BATCH = Number(process.env.BENCH_BATCH ?? 4);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const MATCHING = 5;

const at = new Date();
const events: EventEnvelope[] = Array.from({ length: EVENTS }, (_, i) => ({
  eventId: `e${i}`,
  streamId: `stock#BENCH-${i % 16}#BW`,
  version: i,
  type: 'StockReceived',
  schemaVersion: 1,
  correlationId: 'bench',
  occurredAt: at,
  data: {} as EventEnvelope['data'],
  position: i + 1,
}));
const batches: EventEnvelope[][] = [];
for (let i = 0; i < EVENTS; i += BATCH) batches.push(events.slice(i, i + BATCH));

const idleFilter = (i: number): FeedFilter =>
  i % 2 === 0 ? { streamIdPrefix: `item#IDLE-${i}`, eventTypes: [] } : { streamIdPrefix: '', eventTypes: ['AllocationExpired'] };
const matchingFilter: FeedFilter = { streamIdPrefix: 'stock#BENCH-', eventTypes: ['StockReceived'] };
const filters = (n: number): FeedFilter[] => [...Array.from({ length: n }, (_, i) => idleFilter(i)), ...Array.from({ length: MATCHING }, () => matchingFilter)];

/** The live subscriber before the index (main at cb8af28): offered every batch, it filters. */
class ScanSubscriber {
  readonly buffer: EventEnvelope[] = [];
  constructor(
    private cursor: number,
    private readonly match: Matcher,
  ) {}

  offer(batch: readonly EventEnvelope[]): boolean {
    for (const e of batch) {
      const p = e.position!;
      if (p <= this.cursor) continue;
      if (this.match(e)) this.buffer.push(e);
      this.cursor = p;
    }
    return true;
  }
}

function scan(n: number): { ms: number; delivered: number } {
  const live = new Set(filters(n).map((f) => new ScanSubscriber(0, matcherOf(f))));
  const t0 = performance.now();
  for (const batch of batches) for (const s of live) if (!s.offer(batch)) live.delete(s);
  const ms = performance.now() - t0;
  return { ms, delivered: [...live].reduce((sum, s) => sum + s.buffer.length, 0) };
}

function indexed(n: number): { ms: number; delivered: number } {
  const live = new LiveIndex<LiveSubscriber>();
  const subs = filters(n).map((f) => {
    const s = new LiveSubscriber(0, EVENTS);
    live.add(s, f);
    return s;
  });
  const t0 = performance.now();
  for (const batch of batches) {
    for (const e of batch) {
      live.forEachMatch(e, (s) => {
        if (!s.offer(e)) live.remove(s);
      });
    }
  }
  const ms = performance.now() - t0;
  // Every matching subscriber took every event (its cursor moves only with what it buffers).
  return { ms, delivered: subs.filter((s) => s.cursor === EVENTS).length * EVENTS };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

process.stdout.write(`fan-out of ${EVENTS} events in batches of ${BATCH}, ${MATCHING} matching subscribers, median of ${ROUNDS} alternating rounds\n`);
process.stdout.write('idle subs | scan µs/event | index µs/event | scan / index\n');
for (const n of SUBSCRIBERS) {
  scan(n); // warm the JIT for this size
  indexed(n);
  const a: number[] = [];
  const b: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const x = scan(n);
    const y = indexed(n);
    if (x.delivered !== MATCHING * EVENTS || y.delivered !== MATCHING * EVENTS) throw new Error('a matching subscriber missed events');
    a.push((x.ms * 1000) / EVENTS);
    b.push((y.ms * 1000) / EVENTS);
  }
  const sa = median(a);
  const sb = median(b);
  process.stdout.write(`${String(n).padStart(9)} | ${sa.toFixed(2).padStart(13)} | ${sb.toFixed(2).padStart(14)} | ${(sa / sb).toFixed(1).padStart(11)}x\n`);
}
