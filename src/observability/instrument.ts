import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Registry } from 'prom-client';
import type { ReadCache } from '../cache/read-cache.js';
import { feedLag } from '../events/feed-lag.js';
import type { OutboxRelay } from '../events/relay.js';
import type { Snapshotter } from '../events/snapshotter.js';
import type { AllocationService } from '../inventory/allocations.js';
import type { UnitOfWork } from '../persistence/unit-of-work.js';
import { registerCacheMetrics } from './cache-metrics.js';
import { registerDomainMetrics } from './domain-metrics.js';
import { registerDynamoMetrics, registerEventPathMetrics } from './event-metrics.js';
import { registerPoolMetrics } from './pool-metrics.js';

export interface Instrumented {
  readonly orm: MikroORM;
  readonly dynamo: DynamoDBClient;
  readonly uow: UnitOfWork;
  readonly allocations: AllocationService;
  readonly relay: OutboxRelay;
  readonly snapshotter: Snapshotter;
  readonly cache: ReadCache;
}

/** Every component metric, hooked into the components in one place (the gRPC ones are an interceptor). */
export function instrumentComponents(registry: Registry, c: Instrumented): void {
  const domain = registerDomainMetrics(registry);
  c.uow.onCommit(domain.committed);
  c.allocations.observe(domain.allocations);
  registerEventPathMetrics(registry, { relay: c.relay, snapshotter: c.snapshotter, feedLag: () => feedLag(c.orm) });
  registerDynamoMetrics(registry, c.dynamo);
  registerPoolMetrics(registry, c.orm);
  registerCacheMetrics(registry, () => c.cache.stats());
}
