import { DomainError } from '../inventory/errors.js';

/** Given back by `ConcurrencyGate.acquire`; call once when the guarded work is over. */
export type Release = () => void;

/**
 * At most `limit` holders at a time; the rest wait, first come first served. Holders take a
 * slot per unit of work (one page), not per call, so a long reader queues again after every
 * page and cannot hold a slot while its client is slow: the slots go round the calls that
 * have started. Those (`admitted`) go before calls waiting for their first unit, so under
 * overload the started calls finish at full speed instead of every call slowing down until
 * all of them miss their deadlines; new calls wait in a queue of at most `maxQueue`
 * (beyond it: RESOURCE_EXHAUSTED with `fullMessage`).
 */
export class ConcurrencyGate {
  private active = 0;
  private readonly started: Array<{ grant: () => void }> = [];
  private readonly queue: Array<{ grant: () => void }> = [];

  constructor(
    private readonly limit: number,
    private readonly maxQueue: number,
    private readonly fullMessage: string,
  ) {}

  /** Holders now. */
  get inUse(): number {
    return this.active;
  }

  /** Callers waiting for a slot. */
  get waiting(): number {
    return this.started.length + this.queue.length;
  }

  /**
   * Resolves with a release once a slot is free; rejects on abort, and when the queue is
   * full unless `admitted` (a caller already let in, whose next unit of work always queues,
   * so a call is refused before it started, never half-way through).
   */
  acquire(signal?: AbortSignal, admitted = false): Promise<Release> {
    if (signal?.aborted) return Promise.reject(abortError());
    if (this.active < this.limit) {
      this.active++;
      return Promise.resolve(this.releaser());
    }
    if (!admitted && this.queue.length >= this.maxQueue) {
      return Promise.reject(new DomainError('RESOURCE_EXHAUSTED', this.fullMessage, { limit: this.limit, queue: this.maxQueue }));
    }
    const queue = admitted ? this.started : this.queue;
    return new Promise<Release>((resolve, reject) => {
      const onAbort = () => {
        const i = queue.indexOf(entry);
        if (i >= 0) queue.splice(i, 1);
        reject(abortError());
      };
      const entry = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve(this.releaser());
        },
      };
      queue.push(entry);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Runs `work` in a slot. */
  async run<T>(work: () => Promise<T>, signal?: AbortSignal, admitted = false): Promise<T> {
    const release = await this.acquire(signal, admitted);
    try {
      return await work();
    } finally {
      release();
    }
  }

  private releaser(): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.started.shift() ?? this.queue.shift();
      // The slot passes straight to the next waiter, so a newcomer cannot overtake the queue.
      if (next) next.grant();
      else this.active--;
    };
  }
}

function abortError(): Error {
  return Object.assign(new Error('aborted while waiting for a read slot'), { name: 'AbortError' });
}
