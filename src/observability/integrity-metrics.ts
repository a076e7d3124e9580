import { Counter, Gauge, type Registry } from 'prom-client';
import type { AuditorStats } from '../events/audit/auditor.js';
import { INTEGRITY_KINDS, type IntegrityKind } from '../events/audit/findings.js';

/**
 * The integrity auditor's findings and progress (docs/integrity.md), read from its stats at
 * scrape time. Violations count on the instance that confirmed them (the leader); open
 * findings and the leader flag are what every instance sees.
 */
export function registerIntegrityMetrics(registry: Registry, stats: () => AuditorStats): void {
  new Counter({
    name: 'inventory_integrity_violations_total',
    help: 'Confirmed differences between the event store and PostgreSQL recorded by this instance, by kind.',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      const v = stats().violations;
      this.reset();
      for (const kind of Object.keys(INTEGRITY_KINDS) as IntegrityKind[]) this.inc({ kind }, v[kind]);
    },
  });
  new Gauge({
    name: 'inventory_integrity_audit_lag_seconds',
    help: 'Age of the oldest committed event the auditor has not audited yet (0 when caught up; only the auditing instance reports it).',
    registers: [registry],
    collect() {
      const s = stats();
      this.set(s.leader ? s.lagSeconds : 0);
    },
  });
  new Gauge({
    name: 'inventory_integrity_open_findings',
    help: 'Findings not yet resolved by a clean audit of their stream (fleet-wide).',
    registers: [registry],
    collect() {
      this.set(stats().openFindings);
    },
  });
  new Gauge({
    name: 'inventory_integrity_auditor_leader',
    help: '1 on the instance that runs the integrity audit now, else 0.',
    registers: [registry],
    collect() {
      this.set(stats().leader ? 1 : 0);
    },
  });
}
