import { Counter, Gauge, type Registry } from 'prom-client';
import type { CacheStats } from '../cache/read-cache.js';

type CounterName = 'hits' | 'misses' | 'bypassed' | 'invalidations' | 'evictions' | 'stored' | 'discarded' | 'clears';

const COUNTERS: ReadonlyArray<[CounterName, string]> = [
  ['hits', 'Reads answered from the read cache.'],
  ['misses', 'Reads that loaded from PostgreSQL and may have filled the cache.'],
  ['bypassed', 'Reads that skipped the cache (consistent reads, or any read while the invalidation feed is down).'],
  ['invalidations', 'Invalidations applied (own commits and LISTEN/NOTIFY).'],
  ['evictions', 'Entries pushed out by the size bound.'],
  ['stored', 'Loaded values put in the cache.'],
  ['discarded', 'Loaded values not cached because an invalidation overtook the load.'],
  ['clears', 'Whole-cache clears (feed lost or regained).'],
];

/** The read cache's own counters, read at scrape time: the cache keeps no metric code. */
export function registerCacheMetrics(registry: Registry, stats: () => CacheStats): void {
  for (const [field, help] of COUNTERS) {
    new Counter({
      name: `inventory_cache_${field}_total`,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(stats()[field]);
      },
    });
  }
  new Gauge({
    name: 'inventory_cache_entries',
    help: 'Entries in the read cache now.',
    registers: [registry],
    collect() {
      this.set(stats().size);
    },
  });
  new Gauge({
    name: 'inventory_cache_max_entries',
    help: 'CACHE_MAX_ENTRIES (0: the cache is off).',
    registers: [registry],
    collect() {
      this.set(stats().maxEntries);
    },
  });
  new Gauge({
    name: 'inventory_cache_bypassed',
    help: '1 while reads bypass the cache (it is off, or its invalidation feed is down), else 0.',
    registers: [registry],
    collect() {
      const s = stats();
      this.set(s.enabled && s.active ? 0 : 1);
    },
  });
}
