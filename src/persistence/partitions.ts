import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from '../log.js';
import { PeriodicJob } from '../periodic.js';
import { query } from './sql.js';

/** Month partitions of the stock ledger: `stock_movement_pYYYYMM`, bounds in UTC. */
export interface MonthPartition {
  readonly name: string;
  /** Inclusive. */
  readonly from: Date;
  /** Exclusive. */
  readonly to: Date;
}

const monthStart = (year: number, month: number): Date => new Date(Date.UTC(year, month, 1));

/** The partition holding ledger rows created at `at`. */
export function partitionOf(at: Date): MonthPartition {
  const from = monthStart(at.getUTCFullYear(), at.getUTCMonth());
  const to = monthStart(from.getUTCFullYear(), from.getUTCMonth() + 1);
  const name = `stock_movement_p${from.getUTCFullYear()}${String(from.getUTCMonth() + 1).padStart(2, '0')}`;
  return { name, from, to };
}

/** The partitions covering the month before `now` through `monthsAhead` months after it. */
export function partitionsAround(now: Date, monthsAhead: number): MonthPartition[] {
  const out: MonthPartition[] = [];
  for (let offset = -1; offset <= monthsAhead; offset++) out.push(partitionOf(monthStart(now.getUTCFullYear(), now.getUTCMonth() + offset)));
  return out;
}

/** The statement that creates a partition unless it exists. */
export const createPartitionSql = (p: MonthPartition): string =>
  `create table if not exists "${p.name}" partition of stock_movement for values from ('${p.from.toISOString()}') to ('${p.to.toISOString()}')`;

// Any constant: the advisory lock that serialises partition creation across instances.
export const PARTITION_LOCK_KEY = 7_340_001;

/**
 * Keeps the monthly partitions of `stock_movement` ahead of time: at start-up (before the
 * service takes calls) and then periodically, so a write never finds its month missing.
 * Idempotent and safe with several instances (an advisory lock serialises them, and
 * existing partitions are left alone).
 */
export class StockMovementPartitions {
  private readonly job: PeriodicJob<unknown>;

  constructor(
    private readonly orm: MikroORM,
    private readonly log: Logger,
    private readonly options: { readonly monthsAhead: number; readonly intervalMs: number; readonly clock: () => Date },
  ) {
    this.job = new PeriodicJob(
      () => this.ensure().catch((err: Error) => this.log.warn({ err: err.message }, 'stock ledger partition maintenance failed')),
      options.intervalMs,
    );
  }

  /** Creates the missing partitions around the clock's now; returns the names created. */
  async ensure(): Promise<string[]> {
    const wanted = partitionsAround(this.options.clock(), this.options.monthsAhead);
    return this.orm.em.fork().transactional(async (em) => {
      await query(em, `select pg_advisory_xact_lock(?)`, [PARTITION_LOCK_KEY]);
      const rows = await query<{ name: string }>(
        em,
        `select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
          where i.inhparent = 'stock_movement'::regclass`,
      );
      const have = new Set(rows.map((r) => r.name));
      const created: string[] = [];
      for (const p of wanted) {
        if (have.has(p.name)) continue;
        await query(em, createPartitionSql(p));
        created.push(p.name);
      }
      if (created.length > 0) this.log.info({ partitions: created }, 'created stock ledger partitions');
      return created;
    });
  }

  start(): void {
    this.job.start();
  }

  stop(): Promise<void> {
    return this.job.stop();
  }
}
