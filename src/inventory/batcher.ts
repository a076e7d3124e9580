/**
 * Group commit for concurrent calls: commands submitted while earlier batches run are
 * queued and handed to `run` together, up to `maxBatch` at a time and with at most
 * `concurrency` batches in flight. Under load many calls share one transaction (one set of
 * row locks, one commit); when idle a call runs alone at once, with no added delay.
 *
 * Correctness never depends on batching: `run` must give every command the result it
 * would get alone. If a batch fails as a whole (an unexpected error), its commands are run
 * again one by one so that one bad command cannot fail the others.
 */
export interface BatcherOptions<C> {
  readonly maxBatch: number;
  readonly concurrency: number;
  /** Commands with equal keys never share a batch (a duplicate waits for the next one). */
  readonly keyOf: (command: C) => string;
}

interface Waiter<C, R> {
  readonly command: C;
  resolve(result: R): void;
  reject(err: unknown): void;
}

export class Batcher<C, R> {
  private queue: Array<Waiter<C, R>> = [];
  private running = 0;

  constructor(
    private readonly run: (batch: readonly C[]) => Promise<R[]>,
    private readonly options: BatcherOptions<C>,
  ) {}

  submit(command: C): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ command, resolve, reject });
      this.pump();
    });
  }

  /** Calls waiting for a batch (for tests and metrics). */
  get queued(): number {
    return this.queue.length;
  }

  private pump(): void {
    while (this.running < this.options.concurrency && this.queue.length > 0) {
      const batch = this.take();
      this.running++;
      void this.execute(batch).finally(() => {
        this.running--;
        this.pump();
      });
    }
  }

  private take(): Array<Waiter<C, R>> {
    const batch: Array<Waiter<C, R>> = [];
    const keys = new Set<string>();
    const rest: Array<Waiter<C, R>> = [];
    for (const w of this.queue) {
      const key = this.options.keyOf(w.command);
      if (batch.length < this.options.maxBatch && !keys.has(key)) {
        keys.add(key);
        batch.push(w);
      } else {
        rest.push(w);
      }
    }
    this.queue = rest;
    return batch;
  }

  private async execute(batch: ReadonlyArray<Waiter<C, R>>): Promise<void> {
    try {
      const results = await this.run(batch.map((w) => w.command));
      batch.forEach((w, i) => w.resolve(results[i]!));
    } catch (err) {
      if (batch.length === 1) {
        batch[0]!.reject(err);
        return;
      }
      await Promise.all(
        batch.map(async (w) => {
          try {
            const [result] = await this.run([w.command]);
            w.resolve(result!);
          } catch (e) {
            w.reject(e);
          }
        }),
      );
    }
  }
}
