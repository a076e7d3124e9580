import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from '../../log.js';
import { PeriodicJob } from '../../periodic.js';

/**
 * Keeps the global feed to its retention: deletes outbox rows that have a position, were
 * appended to DynamoDB more than `retentionHours` ago, and have no unprunable row before
 * them (the feed is cut only at its start, so it stays gapless). Rows not yet in DynamoDB
 * are never deleted: the outbox is their only copy. event_feed.pruned_through records the
 * cut so a subscriber asking for an older position gets a clear OUT_OF_RANGE.
 */
export class FeedPruner {
  private readonly job: PeriodicJob<number>;

  constructor(
    private readonly orm: MikroORM,
    private readonly log: Logger,
    private readonly options: { retentionHours: number; intervalMs: number; batchSize: number },
  ) {
    this.job = new PeriodicJob(() => this.pruneAll(), options.intervalMs);
  }

  start(): void {
    this.job.start();
  }

  /** Prunes until nothing more is due; returns how many rows were deleted. */
  prune(): Promise<number> {
    return this.job.run();
  }

  private async pruneAll(): Promise<number> {
    let total = 0;
    try {
      for (;;) {
        const n = await this.pruneBatch();
        total += n;
        if (n < this.options.batchSize) break;
      }
      if (total > 0) this.log.info({ pruned: total }, 'pruned the global feed');
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'feed pruning failed');
    }
    return total;
  }

  private async pruneBatch(): Promise<number> {
    return this.orm.em.fork().transactional(async (em) => {
      const feed = (await em.execute(
        'select pruned_through from event_feed where id = 1 for update skip locked',
      )) as Array<{ pruned_through: string }>;
      if (feed[0] === undefined) return 0; // the sequencer or another pruner is busy; next interval
      const from = Number(feed[0].pruned_through);
      const rows = (await em.execute(
        `select position, (appended_at is not null and appended_at < now() - make_interval(hours => ?)) as due
           from event_outbox where position > ? order by position limit ?`,
        [this.options.retentionHours, from, this.options.batchSize],
      )) as Array<{ position: string; due: boolean }>;
      let upTo = from;
      for (const r of rows) {
        if (!r.due) break;
        upTo = Number(r.position);
      }
      if (upTo === from) return 0;
      await em.execute('delete from event_outbox where position > ? and position <= ?', [from, upTo]);
      await em.execute('update event_feed set pruned_through = ? where id = 1', [upTo]);
      return upTo - from;
    });
  }

  stop(): Promise<void> {
    return this.job.stop();
  }
}
