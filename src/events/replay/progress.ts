/** Prints a progress line at most every `everyMs` (and always when forced). */
export class Progress {
  private last = 0;

  constructor(
    private readonly print: (line: string) => void,
    private readonly everyMs = 2000,
    private readonly now: () => number = Date.now,
  ) {}

  tick(line: () => string, force = false): void {
    const t = this.now();
    if (!force && t - this.last < this.everyMs) return;
    this.last = t;
    this.print(line());
  }
}

/** Runs `work` over `items` with at most `concurrency` at a time, keeping the input order of results. */
export async function mapLimit<T, R>(items: readonly T[], concurrency: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await work(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return out;
}
