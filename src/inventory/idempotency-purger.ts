import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from '../log.js';
import { PeriodicJob } from '../periodic.js';
import { purgeIdempotencyRecords } from '../persistence/repositories/idempotency.repository.js';
import { purgeStockImports } from '../persistence/repositories/stock-import.repository.js';

/**
 * Keeps idempotency_record to IDEMPOTENCY_RETENTION_HOURS: a retry is recognised for at
 * least that long after the first call, and the table stays bounded by the write rate
 * times the retention. Deletes in batches of `batchSize` (one short transaction each).
 * ImportStockCounts' per-row decisions are the same kind of memory (what a rerun repeats)
 * and go after the same retention, one import (up to 100,000 rows) per statement.
 */
export class IdempotencyPurger {
  private readonly job: PeriodicJob<number>;

  constructor(
    private readonly orm: MikroORM,
    private readonly log: Logger,
    private readonly options: { retentionHours: number; intervalMs: number; batchSize: number; clock: () => Date },
  ) {
    this.job = new PeriodicJob(() => this.purgeAll(), options.intervalMs);
  }

  start(): void {
    this.job.start();
  }

  /** Purges until nothing more is due; returns how many records were deleted. */
  purge(): Promise<number> {
    return this.job.run();
  }

  stop(): Promise<void> {
    return this.job.stop();
  }

  private async purgeAll(): Promise<number> {
    const before = new Date(this.options.clock().getTime() - this.options.retentionHours * 3_600_000);
    let total = 0;
    try {
      for (;;) {
        const n = await purgeIdempotencyRecords(this.orm.em.fork(), before, this.options.batchSize);
        total += n;
        if (n < this.options.batchSize || this.job.stopped) break;
      }
      let imports = 0;
      while (!this.job.stopped && (await purgeStockImports(this.orm.em.fork(), before, 1)) > 0) imports++;
      if (total > 0 || imports > 0) this.log.info({ purged: total, stockImports: imports, before: before.toISOString() }, 'purged idempotency records');
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'idempotency purge failed');
    }
    return total;
  }
}
