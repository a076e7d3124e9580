/**
 * The newest position known to this process, and who waits for a newer one. The local
 * sequencer and the LISTEN connection (positions handed out by other instances) advance
 * it; the feed's tail reader (one per instance) waits on it, with a timeout as the
 * fallback for a lost notification.
 */
export class FeedSignal {
  private known = 0;
  private readonly waiters = new Set<() => void>();

  get lastKnown(): number {
    return this.known;
  }

  advance(lastPosition: number): void {
    if (!(lastPosition > this.known)) return;
    this.known = lastPosition;
    for (const wake of [...this.waiters]) wake();
  }

  /** Resolves when a position beyond `position` is known, after `timeoutMs`, or on abort. */
  waitBeyond(position: number, timeoutMs: number, signal: AbortSignal): Promise<void> {
    if (this.known > position || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const check = () => {
        if (this.known > position) done();
      };
      const timer = setTimeout(done, timeoutMs);
      this.waiters.add(check);
      signal.addEventListener('abort', done);
    });
  }

  /** Wakes every waiter (shutdown). */
  wakeAll(): void {
    for (const wake of [...this.waiters]) wake();
  }
}
