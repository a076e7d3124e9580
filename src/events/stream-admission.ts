import { DomainError } from '../inventory/errors.js';
import { ConcurrencyGate, type Release } from './gate.js';

export interface StreamAdmissionOptions {
  /** Calls streaming at once (STREAM_ACTIVE_CALLS). */
  readonly activeCalls: number;
  /** Calls waiting for a place (STREAM_READ_QUEUE); beyond it RESOURCE_EXHAUSTED at once. */
  readonly maxQueue: number;
  /** Longest wait for a place (STREAM_QUEUE_WAIT_MS); then RESOURCE_EXHAUSTED. */
  readonly maxWaitMs: number;
}

/**
 * Lets at most `activeCalls` StreamEvents calls stream at a time; the rest wait in arrival
 * order. Page by page the read slots (the DynamoDB gate) already bound the requests in
 * flight, but every started call shares them, so a burst of 300 calls slowed all 300
 * until every one of them missed its deadline. With a bounded number of calls streaming,
 * each runs at full speed, and a call that cannot get a place soon is told so:
 * RESOURCE_EXHAUSTED when the queue is full, or once it has waited `maxWaitMs` or half the
 * time left before its deadline, whichever comes first. A client is thus told to retry
 * while it still has time, instead of only hitting its deadline.
 */
export class StreamAdmission {
  private readonly gate: ConcurrencyGate;

  constructor(private readonly options: StreamAdmissionOptions) {
    this.gate = new ConcurrencyGate(
      options.activeCalls,
      options.maxQueue,
      `StreamEvents: ${options.maxQueue} calls already wait for one of this instance's ${options.activeCalls} streaming places (STREAM_READ_QUEUE, STREAM_ACTIVE_CALLS); retry later`,
    );
  }

  /** Calls streaming now, and calls waiting for a place. */
  get load(): { active: number; waiting: number } {
    return { active: this.gate.inUse, waiting: this.gate.waiting };
  }

  /**
   * Resolves with a release once the call may stream. `deadline` is the call's deadline in
   * epoch milliseconds (Infinity without one); `now` is injectable for tests.
   */
  async enter(signal: AbortSignal, deadline: number, now = Date.now()): Promise<Release> {
    const waitMs = Math.max(0, Math.min(this.options.maxWaitMs, (deadline - now) / 2));
    const waited = AbortSignal.timeout(Math.ceil(waitMs));
    try {
      return await this.gate.acquire(AbortSignal.any([signal, waited]));
    } catch (err) {
      if (!waited.aborted || signal.aborted) throw err;
      throw new DomainError(
        'RESOURCE_EXHAUSTED',
        `StreamEvents: none of this instance's ${this.options.activeCalls} streaming places came free within ${Math.round(waitMs)} ms; retry later ` +
          `(STREAM_ACTIVE_CALLS, STREAM_QUEUE_WAIT_MS; a call waits at most half the time left before its deadline)`,
        { limit: this.options.activeCalls, waitedMs: Math.round(waitMs) },
      );
    }
  }
}
