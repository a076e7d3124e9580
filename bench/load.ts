/** A closed-loop load generator: `inFlight` callers, each issuing its next call when the last returns. */
export interface LoadResult {
  readonly calls: number;
  readonly errors: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export async function runLoad(
  call: () => Promise<unknown>,
  options: { inFlight: number; durationMs: number; warmupMs: number },
): Promise<LoadResult> {
  await phase(call, options.inFlight, options.warmupMs, undefined);
  const latencies = new Float64Array(4_000_000);
  const counts = { calls: 0, errors: 0 };
  const started = process.hrtime.bigint();
  await phase(call, options.inFlight, options.durationMs, { latencies, counts });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const n = Math.min(counts.calls, latencies.length);
  const sorted = latencies.subarray(0, n).sort();
  const at = (q: number) => sorted[Math.min(n - 1, Math.floor(q * n))] ?? Number.NaN;
  return { calls: counts.calls, errors: counts.errors, perSecond: counts.calls / seconds, p50Ms: at(0.5), p99Ms: at(0.99) };
}

async function phase(
  call: () => Promise<unknown>,
  inFlight: number,
  ms: number,
  record: { latencies: Float64Array; counts: { calls: number; errors: number } } | undefined,
): Promise<void> {
  const end = Date.now() + ms;
  const worker = async () => {
    while (Date.now() < end) {
      const t0 = process.hrtime.bigint();
      try {
        await call();
      } catch {
        if (record) record.counts.errors++;
        continue;
      }
      if (record) {
        const i = record.counts.calls++;
        if (i < record.latencies.length) record.latencies[i] = Number(process.hrtime.bigint() - t0) / 1e6;
      }
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
}
