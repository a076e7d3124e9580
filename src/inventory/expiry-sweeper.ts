import { randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from '../log.js';
import { PeriodicJob } from '../periodic.js';
import type { AllocationService } from './allocations.js';

/**
 * Releases allocations whose expire_time has passed, every `intervalMs`. Each expiry is
 * its own transaction, taken with FOR UPDATE SKIP LOCKED and re-checked under the lock,
 * so any number of instances can sweep one database and each allocation expires exactly
 * once. An allocation stays ALLOCATED (and can still be fulfilled) until a sweep reaches
 * it, normally within one interval of its expire_time.
 */
export class ExpirySweeper {
  private readonly job: PeriodicJob<number>;

  constructor(
    private readonly orm: MikroORM,
    private readonly allocations: AllocationService,
    private readonly log: Logger,
    options: { readonly intervalMs: number },
  ) {
    this.job = new PeriodicJob(() => this.sweepOnce(), options.intervalMs);
  }

  start(): void {
    this.job.start();
  }

  /** One pass: expires every due allocation; resolves with how many. */
  sweep(): Promise<number> {
    return this.job.run();
  }

  private async sweepOnce(): Promise<number> {
    const ctx = { correlationId: `expiry-${randomUUID()}`, actor: 'system:expiry-sweeper', actsForOthers: true };
    let expired = 0;
    try {
      while (!this.job.stopped) {
        const id = await this.allocations.expireNext(this.orm.em.fork(), ctx);
        if (id === undefined) break;
        expired++;
      }
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'allocation expiry sweep failed; retrying next interval');
    }
    if (expired > 0) this.log.info({ expired }, 'expired allocations');
    return expired;
  }

  stop(): Promise<void> {
    return this.job.stop();
  }
}
