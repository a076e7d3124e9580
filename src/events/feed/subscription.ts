import { DomainError } from '../../inventory/errors.js';
import type { ConcurrencyGate } from '../gate.js';
import type { EventEnvelope } from '../types.js';
import { matcherOf, type FeedFilter } from './filter.js';
import type { FeedPages } from './pages.js';
import type { FeedSignal } from './signal.js';
import type { FeedTail } from './tail.js';

export type FeedStart = { kind: 'after'; position: number } | { kind: 'now' } | { kind: 'oldest' };

export interface SubscribeOptions extends FeedFilter {
  readonly start: FeedStart;
}

export type { FeedState } from './pages.js';

export interface FeedReaderOptions {
  /** Events per catch-up page and per slice of the window. */
  readonly pageSize: number;
  /** Events buffered for one live subscriber before it is detached (the slow-consumer rule). */
  readonly subscriberBuffer: number;
  /** Open subscriptions per instance; beyond it RESOURCE_EXHAUSTED. */
  readonly maxSubscriptions: number;
}

/** How often each path was taken (tests and the benchmark). */
export interface FeedReaderStats {
  /** A live subscriber's buffer overflowed and it went back to reading at its own pace. */
  overflows: number;
  /** A subscriber joined the live window. */
  joins: number;
}

/**
 * Serves SubscribeEvents. A subscription moves its cursor forward through three sources,
 * each covering what the next cannot: PostgreSQL pages (catch-up, filtered in SQL, in one
 * of a bounded number of catch-up slots) while the cursor is older than the in-memory
 * window; slices of the window; and, once at the window's head, the live set, where the
 * tail pushes each new batch into the subscriber's bounded buffer. Every source delivers
 * only positions after the cursor, in order, so there is no gap and no repeat between them.
 * A live subscriber whose buffer overflows (its client reads slower than events arrive)
 * is detached and goes back through the window or PostgreSQL at its own pace: it is never
 * ended for being slow, and costs no memory beyond its buffer.
 */
export class FeedReader {
  private open = 0;
  readonly stats: FeedReaderStats = { overflows: 0, joins: 0 };

  constructor(
    private readonly pages: FeedPages,
    private readonly tail: FeedTail,
    private readonly signal: FeedSignal,
    private readonly catchUp: ConcurrencyGate,
    private readonly options: FeedReaderOptions,
  ) {}

  /** Subscriptions open in this instance (for a gauge). */
  get openSubscriptions(): number {
    return this.open;
  }

  state(): ReturnType<FeedPages['state']> {
    return this.pages.state();
  }

  private stale(after: number, prunedThrough: number): DomainError {
    return new DomainError(
      'STALE_POSITION',
      `after_position: events after position ${after} have been pruned from the feed; the oldest available position is ${prunedThrough + 1} (resubscribe with from_oldest, or resynchronise from StreamEvents)`,
      { field: 'after_position', oldestAvailablePosition: prunedThrough + 1 },
    );
  }

  async *subscribe(o: SubscribeOptions, abort: AbortSignal): AsyncGenerator<EventEnvelope> {
    if (this.open >= this.options.maxSubscriptions) {
      throw new DomainError(
        'RESOURCE_EXHAUSTED',
        `this instance already serves MAX_SUBSCRIPTIONS=${this.options.maxSubscriptions} subscriptions; retry later or on another instance`,
        { limit: this.options.maxSubscriptions },
      );
    }
    this.open++;
    this.tail.retain();
    try {
      yield* this.follow(o, abort);
    } finally {
      this.tail.release();
      this.open--;
    }
  }

  private async *follow(o: SubscribeOptions, abort: AbortSignal): AsyncGenerator<EventEnvelope> {
    // One small query per start, outside the catch-up slots: through them, a reconnect of
    // 5,000 subscribers took minutes on the loaded bench machine (docs/event-feed.md).
    const initial = await this.pages.state();
    this.signal.advance(initial.lastPosition);
    let cursor: number;
    switch (o.start.kind) {
      case 'now':
        cursor = initial.lastPosition;
        break;
      case 'oldest':
        cursor = initial.prunedThrough;
        break;
      case 'after':
        if (o.start.position > initial.lastPosition) {
          throw new DomainError(
            'STALE_POSITION',
            `after_position: ${o.start.position} is beyond the newest position ${initial.lastPosition} of this feed (was the database rebuilt?)`,
            { field: 'after_position', newestPosition: initial.lastPosition },
          );
        }
        cursor = o.start.position;
        // The window may still hold pruned positions; the answer must not depend on it.
        if (cursor < initial.prunedThrough) throw this.stale(cursor, initial.prunedThrough);
        break;
      default: {
        const never: never = o.start;
        throw new Error(`unknown start ${JSON.stringify(never)}`);
      }
    }
    const match = matcherOf(o);
    const { pageSize } = this.options;
    while (!abort.aborted) {
      const slice = this.tail.slice(cursor, match, pageSize);
      if (slice === undefined) {
        // Older than the window: one page from PostgreSQL, in a catch-up slot.
        const { state, events } = await this.catchUp.run(() => this.pages.page(cursor, pageSize, 'catchUp', o), abort, true);
        if (cursor < state.prunedThrough) throw this.stale(cursor, state.prunedThrough);
        for (const e of events) {
          yield e;
          cursor = e.position!;
        }
        // Filtered out or nothing more: everything up to last_position has been looked at.
        if (events.length < pageSize) cursor = Math.max(cursor, state.lastPosition);
        continue;
      }
      if (slice.through > cursor) {
        for (const e of slice.events) {
          yield e;
          cursor = e.position!;
        }
        cursor = Math.max(cursor, slice.through);
        continue;
      }
      const live = this.tail.attach(cursor, o, this.options.subscriberBuffer);
      if (live === undefined) continue;
      this.stats.joins++;
      try {
        for (let e = await live.take(abort); e !== undefined; e = await live.take(abort)) yield e;
      } finally {
        this.tail.detach(live);
      }
      if (live.overflowed) this.stats.overflows++;
      cursor = live.cursor;
    }
  }
}
