/**
 * Spaces the runs of an after-commit job (the relay's immediate DynamoDB request, an
 * `appended_at` mark) at least `ms` apart while work keeps coming, so that
 * commits arriving back to back share one run instead of each setting off its own. A job
 * that has not run for `ms` runs at once: a lone commit is never delayed, and the delay
 * any item waits is at most `ms`. Callers skip the wait for a full batch. 0 turns it off.
 */
export class Linger {
  private lastStart = Number.NEGATIVE_INFINITY;

  constructor(
    readonly ms: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Milliseconds to wait before the next run (0: run now). */
  delay(): number {
    if (this.ms <= 0) return 0;
    const wait = this.lastStart + this.ms - this.now();
    return wait > 0 ? wait : 0;
  }

  /** A run starts now. */
  started(): void {
    this.lastStart = this.now();
  }
}
