/**
 * A background job made of passes: `run()` starts a pass unless one is under way (callers
 * then share it), `start()` repeats passes every `intervalMs` after the previous one ended
 * (never overlapping, never keeping the process alive), `stop()` ends the schedule and
 * waits for the pass in progress. The relay sweep, the expiry sweeper, the feed pruner and
 * the ledger partition maintenance are all such jobs.
 */
export class PeriodicJob<T> {
  private current: Promise<T> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;

  /** `pass` must not reject: a job reports its own failures and tries again next time. */
  constructor(
    private readonly pass: () => Promise<T>,
    private readonly intervalMs: number,
  ) {}

  /** True once stop() was called: a pass that loops should end early. */
  get stopped(): boolean {
    return this.stopping;
  }

  /** The pass under way, if any. */
  get running(): Promise<T> | undefined {
    return this.current;
  }

  run(): Promise<T> {
    this.current ??= this.pass().finally(() => (this.current = undefined));
    return this.current;
  }

  start(): void {
    this.stopping = false;
    this.schedule();
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      void this.run().finally(() => {
        if (!this.stopping) this.schedule();
      });
    }, this.intervalMs);
    this.timer.unref();
  }

  /** Ends the schedule; resolves once the pass in progress (if any) is over. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    await this.current;
  }
}
