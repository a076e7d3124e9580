import type { EventEnvelope } from '../types.js';

/**
 * A subscriber following the live window: the tail offers it each new event that matches
 * its filter (found through the LiveIndex), and it keeps them in a bounded buffer until its
 * call takes them. When the buffer is full it is detached (the slow-consumer rule): it stops
 * receiving, its call drains what is buffered and goes on from `cursor` by reading the
 * window or PostgreSQL, at its own pace. An idle subscriber is this object and its index
 * entry, nothing else: no timer, no query, and no work when an event does not match it.
 */
export class LiveSubscriber {
  private buffer: EventEnvelope[] = [];
  private read = 0;
  private wake: (() => void) | undefined;
  private isDetached = false;
  /** True once the buffer overflowed. */
  overflowed = false;

  constructor(
    /**
     * Every matching event up to this position is buffered or delivered. While live it
     * moves with the matching events only (the others never reach this object); `detach`
     * moves it to the last position the tail had offered.
     */
    public cursor: number,
    private readonly capacity: number,
  ) {}

  get detached(): boolean {
    return this.isDetached;
  }

  /**
   * Offers an event that matches this subscriber's filter, the tail's events in position
   * order. False when the buffer is full: the subscriber has detached, with its cursor just
   * before `e` (everything before it was offered while it was live).
   */
  offer(e: EventEnvelope): boolean {
    if (this.isDetached) return false;
    const p = e.position!;
    if (p <= this.cursor) return true; // already read from PostgreSQL before joining
    if (this.buffer.length - this.read >= this.capacity) {
      this.overflowed = true;
      this.cursor = p - 1;
      this.detach();
      return false;
    }
    this.buffer.push(e);
    this.cursor = p;
    this.notify();
    return true;
  }

  /**
   * Stops the offers; the call drains the buffer, then goes on from `cursor`. `offeredThrough`
   * is the last position the tail has offered (it was live for all of them, so none that
   * matches is missing); omitted after an overflow, whose cursor is already exact.
   */
  detach(offeredThrough?: number): void {
    if (this.isDetached) return;
    if (offeredThrough !== undefined && offeredThrough > this.cursor) this.cursor = offeredThrough;
    this.isDetached = true;
    this.notify();
  }

  /** The next buffered event; undefined once detached and drained, or when `signal` aborts. */
  async take(signal: AbortSignal): Promise<EventEnvelope | undefined> {
    for (;;) {
      if (signal.aborted) return undefined;
      if (this.read < this.buffer.length) {
        const e = this.buffer[this.read++]!;
        if (this.read === this.buffer.length) {
          this.buffer = [];
          this.read = 0;
        }
        return e;
      }
      if (this.isDetached) return undefined;
      await new Promise<void>((resolve) => {
        const done = () => {
          this.wake = undefined;
          signal.removeEventListener('abort', done);
          resolve();
        };
        this.wake = done;
        signal.addEventListener('abort', done, { once: true });
      });
    }
  }

  private notify(): void {
    this.wake?.();
  }
}
