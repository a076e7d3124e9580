import type { MikroORM } from '@mikro-orm/postgresql';
import { OutboxEvent } from '../persistence/entities/outbox-event.entity.js';
import type { Logger } from '../log.js';
import { PeriodicJob } from '../periodic.js';
import { AppendMarks } from './append-marks.js';
import { Linger } from './linger.js';
import { BATCH_LIMIT } from './batched-inserts.js';
import type { DynamoAppender } from './dynamo-appender.js';
import type { Snapshotter } from './snapshotter.js';
import type { EventEnvelope } from './types.js';
import { outboxWaiting, type OutboxWaiting } from './feed-lag.js';

export function toEnvelope(row: OutboxEvent): EventEnvelope {
  return {
    eventId: row.eventId,
    streamId: row.streamId,
    version: row.version,
    type: row.type as EventEnvelope['type'],
    schemaVersion: row.schemaVersion,
    correlationId: row.correlationId,
    actor: row.actor,
    occurredAt: row.occurredAt,
    data: row.payload as EventEnvelope['data'],
    position: row.position ?? undefined,
  };
}

/** Requests the immediate path keeps in flight, of up to BATCH_LIMIT (25) events each. */
const LANES = 8;

/** An event the immediate path has held this long is appended by the sweep as well (a request may hang). */
const IMMEDIATE_GRACE_MS = 30_000;

/** Tracing, when on: the append of a batch as spans in the traces that recorded its rows. */
export interface AppendTracing {
  /** `work` resolves to how many of the rows were appended. */
  append(rows: readonly OutboxEvent[], path: 'immediate' | 'sweep', work: () => Promise<number>): Promise<number>;
}

/**
 * A backlog whose oldest event is younger than this is the relay at work (events in flight,
 * lingering, or appended and not yet marked): logged at `info`. Older, something holds the
 * appends back (DynamoDB failing or throttling, the relay behind): `warn`.
 */
export const BACKLOG_WARN_AGE_MS = 10_000;

/** The level of the relay's backlog line: `warn` only for a backlog old enough to mean trouble. */
export function backlogLogLevel(backlog: Pick<Backlog, 'count' | 'oldestAgeMs'>): 'warn' | 'info' {
  return backlog.count > 0 && backlog.oldestAgeMs >= BACKLOG_WARN_AGE_MS ? 'warn' : 'info';
}

/** How long a failing snapshot is retried before the relay gives it up. */
const SNAPSHOT_RETRY_MS = 5 * 60_000;

export interface Backlog extends OutboxWaiting {
  /** Events committed in PostgreSQL but not yet confirmed in DynamoDB. */
  readonly count: number;
  /** Age in milliseconds of the oldest of them (the log line's `outboxBacklog.oldestAgeMs`). */
  readonly oldestAgeMs: number;
}

/**
 * Moves committed events from the outbox to DynamoDB.
 *
 * Two paths feed it. The immediate path: right after a transaction commits, its events
 * are appended from memory. The sweep: every `intervalMs` it reads whatever is still
 * unappended in the outbox (DynamoDB was down, the process died right after a commit,
 * another instance crashed) and appends it. Appends are idempotent, so the two paths, and
 * several instances, may overlap safely.
 */
export class OutboxRelay {
  private queue: OutboxEvent[] = [];
  /**
   * Events the immediate path holds (queued or being appended): the sweep leaves them to it.
   * Without this, whenever appends lag behind the sweep interval the sweep appends the same
   * events a second time (harmless, but a conditional write and a read each, for nothing).
   */
  private readonly immediate = new Set<string>();
  /** Immediate-path requests in flight. */
  private lanes = 0;
  private scheduled = false;
  /** Partial batches start at least `lingerMs` apart while commits come back to back. */
  private readonly linger: Linger;
  private lingerTimer: NodeJS.Timeout | undefined;
  private readonly idleWaiters: Array<() => void> = [];
  private readonly sweeper: PeriodicJob<void>;
  private readonly marks: AppendMarks;
  private lastBacklogLog = 0;

  private readonly backlogListeners: Array<(b: Backlog) => void> = [];
  private readonly appendedListeners: Array<(rows: readonly OutboxEvent[]) => void> = [];
  /** Waiting bulk writers (`roomFor`), woken after every immediate batch. */
  private readonly roomWaiters: Array<() => void> = [];

  constructor(
    private readonly orm: MikroORM,
    private readonly appender: DynamoAppender,
    private readonly log: Logger,
    private readonly options: { intervalMs: number; batchSize: number; lingerMs?: number; markLingerMs?: number; tracing?: AppendTracing },
    private readonly snapshotter?: Snapshotter,
  ) {
    this.sweeper = new PeriodicJob(() => this.sweepOnce(), options.intervalMs);
    this.marks = new AppendMarks(orm, log, options.markLingerMs ?? 0);
    this.linger = new Linger(options.lingerMs ?? 0);
  }

  /** Called with the backlog after every sweep (the service's health follows it). */
  onBacklog(listener: (b: Backlog) => void): void {
    this.backlogListeners.push(listener);
  }

  /** Called with the rows confirmed in DynamoDB, by either path (their marks follow in the background). */
  onAppended(listener: (rows: readonly OutboxEvent[]) => void): void {
    this.appendedListeners.push(listener);
  }

  start(): void {
    this.sweeper.start();
  }

  /** The unit of work's commit listener: append these events now. */
  readonly committed = (rows: readonly OutboxEvent[]): void => {
    if (rows.length === 0 || this.sweeper.stopped) return;
    for (const r of rows) this.immediate.add(r.eventId);
    this.queue.push(...rows);
    this.kick();
  };

  private kick(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // Let the other calls finishing in this tick join the batch (busy lanes gather the queue by themselves).
    setImmediate(() => {
      this.scheduled = false;
      this.fill();
    });
  }

  /**
   * Keeps up to LANES requests in flight, each taking the next events of the queue as it
   * starts. Under load a request that waited for a whole round of others (the slowest of
   * them) let the queue, and the lag, grow by seconds.
   */
  private fill(): void {
    while (this.lanes < LANES && this.queue.length > 0) {
      // A partial batch right after another request waits (at most lingerMs) for the
      // commits that follow it; a full one goes at once, and so does everything on stop.
      const wait = this.queue.length < BATCH_LIMIT && !this.sweeper.stopped ? this.linger.delay() : 0;
      if (wait > 0) {
        this.lingerTimer ??= setTimeout(() => {
          this.lingerTimer = undefined;
          this.fill();
        }, wait);
        break;
      }
      this.linger.started();
      const batch = this.queue.splice(0, BATCH_LIMIT);
      this.lanes++;
      this.appendAndMark(batch, 'immediate')
        .catch((err: unknown) => this.log.warn({ err: (err as Error).message }, 'event append failed; the relay will retry'))
        .finally(() => {
          // Appended, or failed: either way the sweep owns whatever is left unmarked.
          for (const r of batch) this.immediate.delete(r.eventId);
          this.lanes--;
          for (const wake of this.roomWaiters.splice(0)) wake();
          this.fill();
        });
    }
    if (this.lanes === 0 && this.queue.length === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  /** Resolves once the immediate path has nothing queued or in flight. */
  private drained(): Promise<void> {
    if (this.lanes === 0 && this.queue.length === 0 && !this.scheduled) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Resolves once at most `max` events wait for the immediate path: a bulk writer
   * (ImportStockCounts) calls it between transactions so it never runs ahead of the
   * appends, which keeps both the queue in memory and the append lag bounded.
   */
  async roomFor(max: number): Promise<void> {
    while (this.queue.length > max && (this.lanes > 0 || this.scheduled || this.lingerTimer !== undefined) && !this.sweeper.stopped) {
      await new Promise<void>((wake) => this.roomWaiters.push(wake));
    }
  }

  private appendAndMark(rows: readonly OutboxEvent[], path: 'immediate' | 'sweep'): Promise<number> {
    const tracing = this.options.tracing;
    return tracing === undefined ? this.appendAndMarkNow(rows) : tracing.append(rows, path, () => this.appendAndMarkNow(rows));
  }

  private async appendAndMarkNow(rows: readonly OutboxEvent[]): Promise<number> {
    const envelopes = rows.map(toEnvelope);
    const appended = await this.appender.appendAll(envelopes);
    const { failed } = appended;
    const done = await this.snapshotDue(envelopes, appended.done);
    if (done.length > 0) {
      const ids = new Set(done);
      const appendedRows = rows.filter((r) => ids.has(r.eventId));
      for (const listener of this.appendedListeners) listener(appendedRows);
      // Not awaited: the next append need not wait for a pool connection (append-marks.ts).
      this.marks.add(appendedRows);
    }
    if (failed > 0) this.log.warn({ failed, appended: done.length }, 'event append failed; the relay will retry');
    return done.length;
  }

  /**
   * Takes the snapshots due after these appends. An event whose snapshot could not be
   * taken (an earlier event of its stream is still in flight, DynamoDB failed) stays
   * unmarked, so the sweep appends it again (harmlessly) and retries the snapshot.
   */
  private async snapshotDue(events: readonly EventEnvelope[], doneIds: string[]): Promise<string[]> {
    const snapshotter = this.snapshotter;
    if (snapshotter === undefined) return doneIds;
    const ids = new Set(doneIds);
    const stored = events.filter((e) => ids.has(e.eventId));
    snapshotter.stored(stored); // the next snapshots continue from these without a read
    const due = stored.filter((e) => snapshotter.due(e));
    for (const r of due) {
      try {
        await snapshotter.take(r.streamId, r.version);
      } catch (err) {
        const context = { err: (err as Error).message, streamId: r.streamId, version: r.version };
        if (Date.now() - r.occurredAt.getTime() < SNAPSHOT_RETRY_MS) {
          ids.delete(r.eventId);
          this.log.debug(context, 'snapshot postponed');
        } else {
          // Still failing long after: the stream itself is broken (verify will name it).
          // Replay works without this snapshot, from an older one; stop holding the event.
          this.log.error(context, 'snapshot given up');
        }
      }
    }
    return doneIds.filter((id) => ids.has(id));
  }

  /** One pass over the outbox backlog. Resolves when the pass is over. */
  sweep(): Promise<void> {
    return this.sweeper.run();
  }

  private async sweepOnce(): Promise<void> {
    try {
      for (;;) {
        const found = await this.orm.em
          .fork()
          .find(OutboxEvent, { appendedAt: null }, { orderBy: { id: 'asc' }, limit: this.options.batchSize });
        const rows = found.filter(
          (r) => !this.marks.holds(r.eventId) && (!this.immediate.has(r.eventId) || Date.now() - r.occurredAt.getTime() > IMMEDIATE_GRACE_MS),
        );
        if (rows.length === 0) break;
        const appended = await this.appendAndMark(rows, 'sweep');
        // The next read must not find this batch again.
        await this.marks.flush();
        if (appended < rows.length) break; // DynamoDB is failing: try again next interval
      }
      // A pass ends with what it found marked, the immediate path's confirmed rows too.
      await this.marks.flush();
      await this.logBacklog();
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'outbox sweep failed');
    }
  }

  backlog(): Promise<Backlog> {
    return outboxWaiting(this.orm, 'append');
  }

  private async logBacklog(): Promise<void> {
    const backlog = await this.backlog();
    for (const listener of this.backlogListeners) listener(backlog);
    const now = Date.now();
    // Say it when there is a backlog (the AWS alarm's metric filter reads every line), and
    // otherwise once a minute.
    if (backlog.count > 0 || now - this.lastBacklogLog > 60_000) {
      this.lastBacklogLog = now;
      this.log[backlogLogLevel(backlog)]({ outboxBacklog: backlog }, 'outbox relay backlog');
    }
  }

  /**
   * Stops the timer and makes a last attempt to append everything pending, for at most
   * `timeoutMs`. Whatever is left stays in the outbox for the next start.
   */
  async stop(timeoutMs: number): Promise<void> {
    const flush = (async () => {
      await this.sweeper.stop();
      if (this.lingerTimer !== undefined) {
        clearTimeout(this.lingerTimer);
        this.lingerTimer = undefined;
        this.fill(); // no more lingering once stopped
      }
      await this.drained();
      await this.marks.flush();
      await this.sweep();
    })();
    await Promise.race([flush, new Promise((r) => setTimeout(r, timeoutMs).unref())]);
  }
}
