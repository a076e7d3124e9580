import type { HealthImplementation } from 'grpc-health-check';
import type { Probe } from '../health/probes.js';
import type { Logger } from '../log.js';
import { PeriodicJob } from '../periodic.js';
import type { DependencyFault } from './dependency-errors.js';
import { SERVICE_NAMES } from './server.js';

type Watched = 'postgresql' | 'dynamodb';

/**
 * Readiness that follows the dependencies (docs/operations.md "Health"):
 *   ""                              serving && PostgreSQL up (every InventoryService call needs it)
 *   inventory.v1.InventoryService   the same
 *   inventory.v1.EventService       serving && PostgreSQL up && the event table answers
 * A DynamoDB outage does not take the instance out of a load balancer: writes keep going
 * into the outbox. Both are probed every `intervalMs`; a call that fails with a dependency
 * fault runs the probes at once (at most every `kickMinMs`), so NOT_SERVING follows within
 * about one probe timeout, and SERVING returns with the first probe that succeeds.
 */
export class Readiness {
  private readonly up: Record<Watched, boolean> = { postgresql: true, dynamodb: true };
  private serving = false;
  private readonly job: PeriodicJob<void>;
  private lastKick = 0;

  constructor(
    private readonly health: HealthImplementation,
    private readonly probes: Record<Watched, Probe>,
    private readonly log: Logger,
    options: { intervalMs: number; kickMinMs?: number },
  ) {
    this.job = new PeriodicJob(() => this.probeAll(), options.intervalMs);
    this.kickMinMs = options.kickMinMs ?? 250;
  }

  private readonly kickMinMs: number;

  /** Probes once, then publishes SERVING where the dependencies allow and keeps probing. */
  async start(): Promise<void> {
    this.serving = true;
    await this.job.run();
    this.publish();
    this.job.start();
  }

  /** A call saw a dependency fault: check now rather than at the next interval. */
  readonly reportFault = (fault: DependencyFault): void => {
    if (fault.kind !== 'unavailable' || !this.serving) return;
    const now = Date.now();
    if (now - this.lastKick < this.kickMinMs) return;
    this.lastKick = now;
    void this.job.run();
  };

  /** NOT_SERVING everywhere (shutdown has begun); probing ends. */
  async stop(): Promise<void> {
    this.serving = false;
    this.publish();
    await this.job.stop();
    await Promise.all(Object.values(this.probes).map((p) => p.close()));
  }

  private async probeAll(): Promise<void> {
    await Promise.all(
      (Object.keys(this.probes) as Watched[]).map(async (name) => {
        try {
          await this.probes[name].check();
          if (!this.up[name]) this.log.info({ dependency: name }, 'dependency reachable again');
          this.up[name] = true;
        } catch (err) {
          if (this.up[name]) this.log.warn({ dependency: name, err: err instanceof Error ? err.message : String(err) }, 'dependency unreachable');
          this.up[name] = false;
        }
      }),
    );
    if (this.serving) this.publish();
  }

  private readonly published = new Map<string, boolean>();

  /** Sets only what changed: every setStatus sends a message to each Watch of that name. */
  private publish(): void {
    const set = (name: string, ok: boolean) => {
      if (this.published.get(name) === ok) return;
      this.published.set(name, ok);
      this.health.setStatus(name, ok ? 'SERVING' : 'NOT_SERVING');
    };
    const core = this.serving && this.up.postgresql;
    set('', core);
    set(SERVICE_NAMES.inventory, core);
    set(SERVICE_NAMES.events, core && this.up.dynamodb);
  }
}
