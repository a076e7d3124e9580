import type { EventEnvelope } from '../types.js';
import type { Matcher } from './filter.js';

/**
 * The newest events of the feed, in memory: positions `start + 1` to `head`, consecutive
 * (the feed has no gaps and the tail reads every position once), at most `capacity` of them.
 * Older events fall out as new ones arrive; a subscriber whose cursor is older than `start`
 * reads from PostgreSQL instead.
 */
export class FeedWindow {
  private events: EventEnvelope[] = [];
  private offset = 0;
  private from: number;

  constructor(
    private readonly capacity: number,
    head: number,
  ) {
    this.from = head;
  }

  /** The position before the oldest event held. */
  get start(): number {
    return this.from;
  }

  /** The newest position held (or `start` when empty). */
  get head(): number {
    return this.from + this.events.length - this.offset;
  }

  get size(): number {
    return this.events.length - this.offset;
  }

  /** Adds events that continue the window; anything else is a bug in the reader. */
  append(batch: readonly EventEnvelope[]): void {
    let expected = this.head + 1;
    for (const e of batch) {
      if (e.position !== expected) throw new Error(`feed window: expected position ${expected}, got ${e.position}`);
      this.events.push(e);
      expected++;
    }
    const excess = this.size - this.capacity;
    if (excess > 0) {
      this.offset += excess;
      this.from += excess;
    }
    // Compact now and then rather than shifting on every append.
    if (this.offset >= this.capacity) {
      this.events = this.events.slice(this.offset);
      this.offset = 0;
    }
  }

  /** Empties the window and continues from `head` (the feed was pruned past the reader). */
  reset(head: number): void {
    this.events = [];
    this.offset = 0;
    this.from = head;
  }

  /**
   * Up to `limit` matching events after `cursor`, and `through`: the last position looked at.
   * Undefined when `cursor` is older than the window.
   */
  after(cursor: number, match: Matcher, limit: number): { events: EventEnvelope[]; through: number } | undefined {
    if (cursor < this.from) return undefined;
    const events: EventEnvelope[] = [];
    let through = cursor;
    for (let i = this.offset + (cursor - this.from); i < this.events.length; i++) {
      const e = this.events[i]!;
      if (match(e)) {
        if (events.length === limit) break;
        events.push(e);
      }
      through = e.position!;
    }
    return { events, through };
  }
}
