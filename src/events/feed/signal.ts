/**
 * The newest position known to this process, and who waits for a newer one. The local
 * sequencer and the LISTEN connection (positions handed out by other instances) advance
 * it; the feed's tail reader (one per instance) waits on it, with a timeout as the
 * fallback for a lost notification.
 */
export class FeedSignal {
  private known = 0;
  private localCommitting = 0;
  /** The newest notification held back while the local sequencer was committing. */
  private held = 0;
  /** Notifications held back while the local sequencer was committing (tests read it). */
  readonly stats = { heldBack: 0 };
  private readonly waiters = new Set<() => void>();

  get lastKnown(): number {
    return this.known;
  }

  advance(lastPosition: number): void {
    if (!(lastPosition > this.known)) return;
    this.known = lastPosition;
    for (const wake of [...this.waiters]) wake();
  }

  /**
   * What this process's sequencer is committing (see `SequencerListener.committing`): a
   * position, `Infinity` while a pass's range is not known yet, 0 when the pass is over with
   * nothing to hand over. The sequencer hands its batch to the tail itself, so until then
   * its own NOTIFY, which may arrive first, must not send the tail to PostgreSQL for the
   * same rows. A notification held back that turns out newer than the pass's range (another
   * instance's positions) is passed on as soon as the range is known.
   */
  committingLocally(lastPosition: number): void {
    this.localCommitting = lastPosition;
    const held = this.held;
    if (held === 0 || lastPosition === Number.POSITIVE_INFINITY) return;
    this.held = 0;
    if (held > lastPosition) this.advance(held);
  }

  /** A position from LISTEN: any instance's sequencer, this one's included. */
  notified(lastPosition: number): void {
    if (lastPosition <= this.localCommitting && lastPosition > this.known) {
      this.held = Math.max(this.held, lastPosition);
      this.stats.heldBack++;
      return;
    }
    this.advance(lastPosition);
  }

  /**
   * Resolves when a position beyond `position` is known (true), after `timeoutMs` or on
   * abort (false).
   */
  waitBeyond(position: number, timeoutMs: number, signal: AbortSignal): Promise<boolean> {
    if (this.known > position) return Promise.resolve(true);
    if (signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
        signal.removeEventListener('abort', done);
        resolve(this.known > position);
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
