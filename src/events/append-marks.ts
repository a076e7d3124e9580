import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from '../log.js';
import { markAppended } from '../persistence/repositories/outbox-marks.js';
import { Linger } from './linger.js';

/** Most rows one mark statement names; more wait for the next statement. */
const MAX_IDS = 2_000;

/**
 * Writes the relay's `appended_at` marks in the background, one statement at a time, all
 * the rows confirmed meanwhile in the next one. The relay goes on appending while a mark
 * waits for a pool connection: under load the callers keep the pool busy, and a relay that
 * waited for each mark before its next append fell seconds behind DynamoDB.
 */
export class AppendMarks {
  /** Row id -> event id of the rows confirmed and not yet marked. */
  private readonly waiting = new Map<number, string>();
  private readonly events = new Set<string>();
  private running: Promise<void> | undefined;
  /** Statements start at least `lingerMs` apart while rows keep coming (0: off). */
  private readonly linger: Linger;
  /** Ends the linger early (flush). */
  private hurry: (() => void) | undefined;
  private flushing = 0;

  constructor(
    private readonly orm: MikroORM,
    private readonly log: Logger,
    lingerMs = 0,
  ) {
    this.linger = new Linger(lingerMs);
  }

  /** Marks these rows soon. */
  add(rows: ReadonlyArray<{ readonly id: number; readonly eventId: string }>): void {
    for (const r of rows) {
      this.waiting.set(r.id, r.eventId);
      this.events.add(r.eventId);
    }
    this.running ??= this.run().finally(() => (this.running = undefined));
  }

  /** Whether the event is confirmed in DynamoDB and its mark not yet written (the sweep leaves it alone). */
  holds(eventId: string): boolean {
    return this.events.has(eventId);
  }

  /** Resolves once every mark added so far is written (or failed). */
  async flush(): Promise<void> {
    this.flushing++;
    try {
      this.hurry?.();
      while (this.running !== undefined) await this.running;
    } finally {
      this.flushing--;
    }
  }

  private async run(): Promise<void> {
    while (this.waiting.size > 0) {
      // Right after another mark, wait for the rows that follow (a full statement and a flush do not).
      const wait = this.waiting.size >= MAX_IDS || this.flushing > 0 ? 0 : this.linger.delay();
      if (wait > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => resolve(), wait);
          this.hurry = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.hurry = undefined;
      }
      this.linger.started();
      const ids = [...this.waiting.keys()].slice(0, MAX_IDS);
      try {
        await markAppended(this.orm.em.fork(), ids, new Date());
      } catch (err) {
        // The events are in DynamoDB; the sweep will append them again, harmlessly.
        this.log.warn({ err: (err as Error).message }, 'could not mark events appended');
      }
      for (const id of ids) {
        const eventId = this.waiting.get(id);
        if (eventId !== undefined) this.events.delete(eventId);
        this.waiting.delete(id);
      }
    }
  }
}
