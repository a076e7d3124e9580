import type { EventEnvelope } from '../types.js';
import type { Matcher } from './filter.js';

/**
 * A subscriber following the live window: the tail offers it every new batch; it keeps the
 * events that match in a bounded buffer until its call takes them. When the buffer is full
 * it is detached (the slow-consumer rule): it stops receiving, its call drains what is
 * buffered and goes on from `cursor` by reading the window or PostgreSQL, at its own pace.
 * An idle subscriber is this object and nothing else: no timer, no query.
 */
export class LiveSubscriber {
  private buffer: EventEnvelope[] = [];
  private read = 0;
  private wake: (() => void) | undefined;
  private isDetached = false;
  /** True once the buffer overflowed. */
  overflowed = false;

  constructor(
    /** The last position looked at: every matching event up to it is buffered or delivered. */
    public cursor: number,
    private readonly match: Matcher,
    private readonly capacity: number,
  ) {}

  get detached(): boolean {
    return this.isDetached;
  }

  /** Offers consecutive events; false when the buffer overflowed and the subscriber detached. */
  offer(batch: readonly EventEnvelope[]): boolean {
    if (this.isDetached) return false;
    let added = false;
    for (const e of batch) {
      const p = e.position!;
      if (p <= this.cursor) continue; // already read from PostgreSQL before joining
      if (this.match(e)) {
        if (this.buffer.length - this.read >= this.capacity) {
          this.overflowed = true;
          this.detach();
          return false;
        }
        this.buffer.push(e);
        added = true;
      }
      this.cursor = p;
    }
    if (added) this.notify();
    return true;
  }

  /** Stops the offers; the call drains the buffer, then goes on from `cursor`. */
  detach(): void {
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
