import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from '../../log.js';
import type { EventEnvelope } from '../types.js';
import { envelopeOfRow, type OutboxRow } from './rows.js';

export const FEED_CHANNEL = 'inventory_feed';

/** What this process learns from its own sequencer. */
export interface SequencerListener {
  /**
   * Which NOTIFYs coming back to this instance are its own, so redundant. `Infinity`: a
   * pass is in flight, it may have committed and notified already, and its range is not
   * known yet (hold every notification back). A position: the pass committed positions up
   * to it (handed over by `sequenced` right after). 0: the pass numbered nothing or failed
   * (whatever was held back is news from other instances).
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
 *
 * A pass is one call of the PL/pgSQL function `inventory_feed_sequence` in autocommit (one
 * round trip, one commit): the lock, the numbering, the last_position update and the
 * NOTIFY stay separate statements inside it, each with its own snapshot (why that matters:
 * Migration20261207100000FeedSequenceFunction).
 */
export class FeedSequencer {
  private running: Promise<void> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  /** Passes that reached PostgreSQL, those that found the feed row locked, events numbered (tests, benchmarks). */
  readonly stats = { passes: 0, busy: 0, sequenced: 0 };

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
    // The pass commits inside the one statement, and its NOTIFY may reach this instance's
    // LISTEN connection before the statement's answer: until the answer says which
    // positions were ours, every notification is held back (FeedSignal), not read for.
    this.listener.committing(Number.POSITIVE_INFINITY);
    let rows: OutboxRow[];
    try {
      rows = (await this.orm.em
        .fork()
        .execute('select * from inventory_feed_sequence(?::int, ?::text)', [this.options.batchSize, FEED_CHANNEL])) as OutboxRow[];
    } catch (err) {
      this.listener.committing(0); // nothing of this pass will be handed over
      throw err;
    }
    this.stats.passes++;
    if (rows.length === 1 && rows[0]!.position === null) {
      this.stats.busy++;
      this.listener.committing(0);
      return undefined;
    }
    if (rows.length === 0) {
      this.listener.committing(0);
      return 0;
    }
    const events = rows.map(envelopeOfRow).sort((a, b) => a.position! - b.position!);
    const last = events[events.length - 1]!.position!;
    this.stats.sequenced += events.length;
    this.listener.committing(last);
    this.listener.sequenced(last, events);
    return events.length;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}
