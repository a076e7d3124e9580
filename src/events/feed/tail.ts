import type { Logger } from '../../log.js';
import type { EventEnvelope } from '../types.js';
import type { FeedFilter, Matcher } from './filter.js';
import { LiveIndex } from './live-index.js';
import { LiveSubscriber } from './live.js';
import type { FeedPages } from './pages.js';
import type { FeedSignal } from './signal.js';
import { FeedWindow } from './window.js';

export interface FeedTailOptions {
  /** Events kept in memory for subscribers that join or fall a little behind. */
  readonly windowEvents: number;
  /** Events per read. */
  readonly pageSize: number;
  /** The fallback when a notification is lost: one read per interval for the whole instance. */
  readonly pollMs: number;
}

/**
 * The one reader of the global feed in this instance. Woken by the FeedSignal (this
 * instance's sequencer, and LISTEN/NOTIFY for the others) or by its single poll timer, it
 * reads each new range of positions once, unfiltered, into the window, and offers each
 * event to the live subscribers whose filter it matches, found through the LiveIndex. The
 * cost of the feed in PostgreSQL is therefore one reader per instance, whatever the number
 * of subscribers, and the cost of an event in memory grows with the subscribers it matches,
 * not with those it does not.
 */
export class FeedTail {
  private readonly live = new LiveIndex<LiveSubscriber>();
  private users = 0;
  private window: FeedWindow;
  private readonly stopping = new AbortController();
  private loop: Promise<void> | undefined;
  private failing = false;
  /** Events appended straight from this instance's sequencer (the benchmark and tests read it). */
  readonly stats = { handedOver: 0 };

  constructor(
    private readonly pages: FeedPages,
    private readonly signal: FeedSignal,
    private readonly log: Logger,
    private readonly options: FeedTailOptions,
  ) {
    this.window = new FeedWindow(options.windowEvents, 0);
  }

  /** Live subscribers now. */
  get subscribers(): number {
    return this.live.size;
  }

  /** The window's range (for tests and the benchmark). */
  get range(): { start: number; head: number } {
    return { start: this.window.start, head: this.window.head };
  }

  /** Starts at the feed's current end: history is read by catch-up, not into the window. */
  async start(): Promise<void> {
    const state = await this.pages.state();
    this.window = new FeedWindow(this.options.windowEvents, state.lastPosition);
    this.signal.advance(state.lastPosition);
    this.loop = this.run();
  }

  /** A subscription opens (it may read the window soon); paired with `release`. */
  retain(): void {
    this.users++;
  }

  release(): void {
    this.users--;
  }

  private async run(): Promise<void> {
    let read = true;
    while (!this.stopping.signal.aborted) {
      try {
        // Nobody to serve: no reads at all, the window just jumps to the newest position
        // known (a later subscriber older than that reads PostgreSQL, as it would anyway).
        if (this.users === 0) this.window.reset(Math.max(this.window.head, this.signal.lastKnown));
        else if (read) await this.readNew();
        if (this.failing) this.log.info('feed tail reads again');
        this.failing = false;
      } catch (err) {
        if (!this.failing) this.log.warn({ err: (err as Error).message }, 'feed tail read failed; retrying every poll interval');
        this.failing = true;
      }
      const advanced = await this.signal.waitBeyond(this.window.head, this.options.pollMs, this.stopping.signal);
      // Woken for positions the sequencer has already handed over: nothing to read. The
      // poll (no wake) always reads: another instance's NOTIFY may have been lost.
      read = !advanced || this.signal.lastKnown > this.window.head;
    }
  }

  /**
   * A batch this instance's sequencer has just committed (consecutive positions): appended
   * and offered at once, without the read back from PostgreSQL that positions handed out
   * by other instances need. Anything that does not continue the window (the tail is
   * behind, or nobody is subscribed) is left to the read loop.
   */
  sequenced(batch: readonly EventEnvelope[]): void {
    if (this.users === 0 || this.stopping.signal.aborted) return;
    const head = this.window.head;
    const fresh = batch[0] !== undefined && batch[0].position! <= head ? batch.filter((e) => e.position! > head) : batch;
    if (fresh[0]?.position !== head + 1) return;
    this.stats.handedOver += fresh.length;
    this.publish(fresh);
  }

  private async readNew(): Promise<void> {
    for (;;) {
      if (this.stopping.signal.aborted) return;
      const head = this.window.head;
      const page = await this.pages.page(head, this.options.pageSize, 'tail');
      const { state } = page;
      // The sequencer may have handed over part of this range meanwhile.
      const now = this.window.head;
      const events = now === head ? page.events : page.events.filter((e) => e.position! > now);
      if (now < state.prunedThrough) {
        // Pruned past us (only after a very long stall): positions are missing from memory,
        // so every live subscriber continues through catch-up, which reports what was lost.
        this.log.warn({ head: now, prunedThrough: state.prunedThrough }, 'feed tail fell behind the retention');
        this.detachAll(now);
        this.window.reset(state.prunedThrough);
        continue;
      }
      if (events.length > 0) this.publish(events);
      this.signal.advance(state.lastPosition);
      if (page.events.length < this.options.pageSize) return;
    }
  }

  private publish(events: readonly EventEnvelope[]): void {
    this.window.append(events);
    if (this.live.size === 0) return;
    for (const e of events) this.live.forEachMatch(e, this.offer(e));
  }

  /** The visitor for one event (a closure per event, not per subscriber). */
  private offer(e: EventEnvelope): (s: LiveSubscriber) => void {
    return (s) => {
      if (!s.offer(e)) this.live.remove(s); // overflowed: it catches up at its own pace
    };
  }

  /** Matching events of the window after `cursor`; undefined when the cursor is older than the window. */
  slice(cursor: number, match: Matcher, limit: number): { events: EventEnvelope[]; through: number } | undefined {
    return this.window.after(cursor, match, limit);
  }

  /**
   * Joins the live set if `cursor` is at (or beyond) the window's head, else undefined (read
   * the window first). Synchronous, like `slice`, so no batch can arrive between the
   * caller's last slice and the join: nothing is skipped at the seam, and the subscriber
   * ignores positions up to its cursor, so nothing repeats.
   */
  attach(cursor: number, filter: FeedFilter, capacity: number): LiveSubscriber | undefined {
    if (cursor < this.window.head) return undefined;
    const s = new LiveSubscriber(cursor, capacity);
    this.live.add(s, filter);
    return s;
  }

  detach(s: LiveSubscriber): void {
    this.live.remove(s);
    s.detach(this.window.head);
  }

  private detachAll(offeredThrough: number): void {
    this.live.forEach((s) => s.detach(offeredThrough));
    this.live.clear();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop;
    this.detachAll(this.window.head);
  }
}
