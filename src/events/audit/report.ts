import * as v from '../../inventory/validation.js';
import type { Sql } from '../replay/sql.js';
import { auditStore, type StoredFinding } from './audit-store.js';

export interface IntegrityReport {
  readonly auditedPosition: number;
  readonly feedPosition: number;
  readonly lagSeconds: number;
  readonly openFindings: number;
  readonly sweepsCompleted: number;
  readonly sweepCursor: string;
  readonly updatedAt: Date | null;
  readonly findings: readonly StoredFinding[];
}

const DEFAULT_FINDINGS = 20;
const MAX_FINDINGS = 1000;

/** GetIntegrityReport: what the fleet's auditor stored, read from PostgreSQL by any instance. */
export class IntegrityReports {
  constructor(
    private readonly sql: Sql,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async report(pageSize: number): Promise<IntegrityReport> {
    const size = v.intInRange('page_size', pageSize, 0, Number.MAX_SAFE_INTEGER);
    const limit = size === 0 ? DEFAULT_FINDINGS : Math.min(size, MAX_FINDINGS);
    const cp = await auditStore.checkpoint(this.sql);
    const lag = await auditStore.lag(this.sql, cp.position, this.clock());
    return {
      auditedPosition: cp.position,
      feedPosition: cp.position + lag.events,
      lagSeconds: lag.seconds,
      openFindings: await auditStore.openCount(this.sql),
      sweepsCompleted: cp.sweepsCompleted,
      sweepCursor: cp.sweepKind === '' ? '' : `${cp.sweepKind}:${cp.sweepAfter}`,
      updatedAt: cp.updatedAt,
      findings: await auditStore.latest(this.sql, limit),
    };
  }
}
