import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('config: read cache settings (unit)', () => {
  it('defaults: 100000 entries, 60 s TTL, 5 s heartbeat, stats every minute', () => {
    expect(loadConfig({}).cache).to.deep.equal({ maxEntries: 100_000, ttlMs: 60_000, heartbeatMs: 5_000, statsIntervalMs: 60_000 });
  });

  it('reads CACHE_* from the environment; 0 entries turns the cache off', () => {
    const c = loadConfig({ CACHE_MAX_ENTRIES: '0', CACHE_TTL_MS: '1500', CACHE_HEARTBEAT_MS: '250', CACHE_STATS_INTERVAL_MS: '0' });
    expect(c.cache).to.deep.equal({ maxEntries: 0, ttlMs: 1500, heartbeatMs: 250, statsIntervalMs: 0 });
  });

  for (const [name, value] of [
    ['CACHE_MAX_ENTRIES', '-1'],
    ['CACHE_TTL_MS', '0'],
    ['CACHE_HEARTBEAT_MS', '10'],
    ['CACHE_STATS_INTERVAL_MS', 'often'],
  ] as const) {
    it(`rejects ${name}=${value}`, () => {
      expect(() => loadConfig({ [name]: value })).to.throw(ConfigError, name);
    });
  }
});
