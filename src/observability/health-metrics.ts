import type { HealthImplementation } from 'grpc-health-check';
import { Counter, Gauge, type Registry } from 'prom-client';

/**
 * The health statuses the service reports, as a gauge (1 SERVING, 0 otherwise) and a
 * counter of changes, so flapping shows even between two scrapes. grpc-health-check has
 * no status listener, so the one method that changes a status is wrapped.
 */
export function registerHealthMetrics(registry: Registry, health: HealthImplementation, services: readonly string[]): void {
  const serving = new Gauge({
    name: 'inventory_health_serving',
    help: 'gRPC health status per service name ("" is the whole server): 1 SERVING, 0 NOT_SERVING.',
    labelNames: ['service'],
    registers: [registry],
  });
  const changes = new Counter({
    name: 'inventory_health_status_changes_total',
    help: 'Health status changes per service name (readiness flapping shows here).',
    labelNames: ['service'],
    registers: [registry],
  });
  const known = new Set(services);
  const current = new Map<string, number>();
  const original = health.setStatus.bind(health);
  const record: HealthImplementation['setStatus'] = (service, status) => {
    original(service, status);
    if (!known.has(service)) return;
    const value = status === 'SERVING' ? 1 : 0;
    if (current.has(service) && current.get(service) !== value) changes.inc({ service });
    current.set(service, value);
    serving.set({ service }, value);
  };
  health.setStatus = record;
  for (const service of services) changes.inc({ service }, 0);
}
