import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from '../../log.js';
import type { EventEnvelope } from '../types.js';
import { envelopeOfRow, OUTBOX_COLUMNS, type OutboxRow } from './rows.js';

export const FEED_CHANNEL = 'inventory_feed';

/** What this process learns from its own sequencer. */
export interface SequencerListener {
  /**
   * Positions up to `lastPosition` are about to commit (their NOTIFY is queued), or 0 when
   * the pass failed: the NOTIFY that comes back to this instance is redundant.
   */
  committing(lastPosition: number): void;
  /**
   * After each batch commits, the new last position and the batch's events in position
   * order (consecutive, ending at `lastPosition`): this instance's feed tail takes them
   * without reading them back from PostgreSQL.
   */
  sequenced(lastPosition: number, events: readonly EventEnvelope[]): void;
}

/**
 * Gives committed outbox rows their place in the global feed.
 *
 * Ids from the outbox's sequence are taken before commit, so ordering by id would let a
 * reader that remembers "the highest id seen" skip a row of a slower transaction that
 * commits later with a lower id. Positions are therefore handed out after commit: one
 * transaction at a time (the event_feed row lock, taken with SKIP LOCKED so a second
 * instance does not queue behind the first) numbers the committed rows that have no
 * position yet, continuing from event_feed.last_position, and commits. Every batch commits
 * before the next begins, so once a reader sees position P, every position below P is
 * visible too: `position > X order by position` never misses a row. Positions have no
 * gaps (they come from last_position, not from a sequence that loses values on rollback).
 */
export class FeedSequencer {
  private running: Promise<void> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;

  constructor(
    private readonly orm: MikroORM,
    private readonly log: Logger,
    private readonly options: { batchSize: number; pollMs: number },
    private readonly listener: SequencerListener,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.kick(), ms);
    this.timer.unref();
  }

  /** Asks for a pass soon; passes never overlap, a request during one runs another. */
  readonly kick = (): void => {
    if (this.stopped) return;
    if (this.running !== undefined) {
      this.again = true;
      return;
    }
    this.running = this.runUntilIdle().then((busy) => {
      this.running = undefined;
      if (busy) {
        // Another instance holds the feed lock and may have missed our rows: look again soon.
        this.schedule(50);
      } else if (this.again) {
        this.again = false;
        this.kick();
      } else {
        this.schedule(this.options.pollMs);
      }
    });
  };

  /** Sequences until nothing is left; true if another sequencer held the lock. */
  private async runUntilIdle(): Promise<boolean> {
    try {
      for (;;) {
        const n = await this.sequenceOnce();
        if (n === undefined) return true;
        if (n < this.options.batchSize) return false;
      }
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'feed sequencer pass failed');
      return false;
    }
  }

  /** One batch. Returns how many rows got a position, or undefined if another sequencer is busy. */
  async sequenceOnce(): Promise<number | undefined> {
    let last = 0;
    let events: EventEnvelope[] = [];
    const n = await this.transaction(async (em) => {
      const feed = (await em.execute(
        'select last_position from event_feed where id = 1 for update skip locked',
      )) as Array<{ last_position: string }>;
      const row = feed[0];
      if (row === undefined) return undefined;
      const from = Number(row.last_position);
      const numbered = (await em.execute(
        `with picked as (select id from event_outbox where position is null order by id limit ?),
              numbered as (select id, row_number() over (order by id) as rn from picked)
         update event_outbox o set position = ? + n.rn from numbered n where o.id = n.id returning ${OUTBOX_COLUMNS}`,
        [this.options.batchSize, from],
      )) as OutboxRow[];
      if (numbered.length === 0) return 0;
      events = numbered.map(envelopeOfRow).sort((a, b) => a.position! - b.position!);
      last = from + numbered.length;
      await em.execute('update event_feed set last_position = ? where id = 1', [last]);
      // Delivered at commit to every instance's LISTEN connection.
      await em.execute('select pg_notify(?, ?)', [FEED_CHANNEL, String(last)]);
      this.listener.committing(last);
      return numbered.length;
    });
    if (n !== undefined && n > 0) this.listener.sequenced(last, events);
    return n;
  }

  private async transaction<T>(work: (em: EntityManager) => Promise<T>): Promise<T> {
    try {
      return await this.orm.em.fork().transactional(work);
    } catch (err) {
      this.listener.committing(0); // nothing of this pass will be handed over
      throw err;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}
