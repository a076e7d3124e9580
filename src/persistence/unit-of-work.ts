import type { EntityManager } from '@mikro-orm/postgresql';
import { SCHEMA_VERSION, type DomainEvent } from '../events/types.js';
import { OutboxEvent } from './entities/outbox-event.entity.js';
import { insertOutboxEvents } from './repositories/outbox-events.js';

/** Who is calling: travels from the edge into every recorded event. */
export interface CallContext {
  readonly correlationId: string;
  /** The caller's identity (`anonymous` without authentication, `system:<job>` for the service's own jobs): every event's actor. */
  readonly actor: string;
  /** May act on what other actors own, such as their allocations (`admin`, or authentication off). */
  readonly actsForOthers: boolean;
}

/** What a use case sees inside its transaction. */
export interface Tx {
  /** The transaction's EntityManager (a fork of the call's fork). */
  readonly em: EntityManager;
  /** One clock reading for the whole transaction: every timestamp it writes agrees. */
  readonly now: Date;
  /** The context of the call the transaction serves (of the first call, for a batch). */
  readonly ctx: CallContext;
  /**
   * Records an event in the outbox, in this transaction. `by` overrides the call's
   * context (a batch transaction serving several calls records each call's own).
   */
  record(streamId: string, version: number, event: DomainEvent, by?: CallContext): void;
}

/** Called with the events of a transaction once it has committed; never after a rollback. */
export type CommitListener = (events: readonly OutboxEvent[]) => void;

export interface UnitOfWorkDeps {
  readonly clock: () => Date;
  readonly newId: () => string;
  /** Told when a commit listener throws; the call has committed and still succeeds. */
  readonly onListenerError?: (err: unknown) => void;
  /** Tracing, when on: a span around each transaction, and the context stored with its events. */
  readonly tracing?: TransactionTracing;
}

export interface TransactionTracing {
  transaction<T>(work: () => Promise<T>): Promise<T>;
  /** The active trace context as a W3C traceparent, or null. */
  traceparent(): string | null;
  /**
   * Runs the commit listeners outside the call's trace: the work they start (the feed
   * sequencer, the relay) serves many calls and joins traces through the outbox rows.
   */
  detached(notify: () => void): void;
}

/**
 * The write path every state change uses: one PostgreSQL transaction that changes state
 * and records its events in the outbox; side effects (the immediate DynamoDB append, cache
 * invalidation) run only after commit, through the commit listeners.
 */
export class UnitOfWork {
  private readonly listeners: CommitListener[] = [];

  constructor(private readonly deps: UnitOfWorkDeps) {}

  onCommit(listener: CommitListener): void {
    this.listeners.push(listener);
  }

  async run<T>(em: EntityManager, ctx: CallContext, work: (tx: Tx) => Promise<T>): Promise<T> {
    const tracing = this.deps.tracing;
    if (tracing === undefined) return this.runTx(em, ctx, work, null, (notify) => notify());
    // The call's context, taken before the transaction span: the append joins the call.
    const traceparent = tracing.traceparent();
    return tracing.transaction(() => this.runTx(em, ctx, work, traceparent, tracing.detached));
  }

  private async runTx<T>(
    em: EntityManager,
    ctx: CallContext,
    work: (tx: Tx) => Promise<T>,
    traceparent: string | null,
    outsideTrace: (notify: () => void) => void,
  ): Promise<T> {
    let recorded: OutboxEvent[] = [];
    const result = await em.transactional(async (txEm) => {
      recorded = [];
      const now = this.deps.clock();
      const tx: Tx = {
        em: txEm,
        now,
        ctx,
        record: (streamId, version, event, by) => {
          const row = new OutboxEvent({
            eventId: this.deps.newId(),
            streamId,
            version,
            type: event.type,
            payload: event.data,
            correlationId: (by ?? ctx).correlationId,
            actor: (by ?? ctx).actor,
            occurredAt: now,
          });
          row.schemaVersion = SCHEMA_VERSION;
          row.traceContext = traceparent;
          recorded.push(row);
        },
      };
      const out = await work(tx);
      // The work's own entities first, as the single flush did: a unique key of theirs (a
      // second create of one sku) must answer before the outbox's (stream, version) does.
      await txEm.flush();
      // Then all the events in one statement, not through MikroORM's flush (outbox-events.ts).
      await insertOutboxEvents(txEm, recorded);
      return out;
    });
    outsideTrace(() => {
      for (const listener of this.listeners) {
        try {
          listener(recorded);
        } catch (err) {
          this.deps.onListenerError?.(err);
        }
      }
    });
    return result;
  }
}
