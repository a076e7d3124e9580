import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * prom-client's gauges named `_total`, which `promtool check metrics` rejects; the same
 * numbers remain by type in nodejs_active_handles / _requests / _resources.
 */
const MISNAMED_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/**
 * One registry per running service (tests run several in one process), with Node's
 * process metrics: CPU, heap, GC, event loop lag, handles.
 */
export function createRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  for (const name of MISNAMED_DEFAULTS) registry.removeSingleMetric(name);
  return registry;
}
