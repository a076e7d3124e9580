import { expect } from 'chai';
import { ConfigError, loadConfig } from '../src/config.js';

describe('config (unit)', () => {
  it('has defaults for everything: embedded databases, 127.0.0.1:50051, table inventory-events', () => {
    const c = loadConfig({});
    expect(c.grpc).to.deep.equal({ host: '127.0.0.1', port: 50051 });
    expect(c.database.url).to.equal(undefined);
    expect(c.dynamodb.endpoint).to.equal(undefined);
    expect(c.dynamodb.table).to.equal('inventory-events');
    expect(c.dataDir).to.match(/\.data$/);
  });

  it('reads every setting from the environment', () => {
    const c = loadConfig({
      GRPC_HOST: '0.0.0.0',
      GRPC_PORT: '6000',
      DATABASE_URL: 'postgres://u:p@db:5432/inv',
      DATABASE_REPLICA_URLS: 'postgres://r1/inv, postgres://r2/inv',
      DATABASE_POOL_MAX: '50',
      DYNAMODB_ENDPOINT: 'http://localhost:8000',
      EVENTS_TABLE: 'events-prod',
    });
    expect(c.grpc.port).to.equal(6000);
    expect(c.database.replicaUrls).to.deep.equal(['postgres://r1/inv', 'postgres://r2/inv']);
    expect(c.database.poolMax).to.equal(50);
    expect(c.dynamodb.endpoint).to.equal('http://localhost:8000');
    expect(Object.isFrozen(c)).to.equal(true);
  });

  it('takes a separate URL for the LISTEN sessions, else none', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://proxy/inv' }).database.listenUrl).to.equal(undefined);
    const c = loadConfig({ DATABASE_URL: 'postgres://proxy/inv', DATABASE_LISTEN_URL: 'postgres://db/inv' });
    expect(c.database.listenUrl).to.equal('postgres://db/inv');
  });

  const bad: Array<[Record<string, string>, string]> = [
    [{ GRPC_PORT: '70000' }, 'GRPC_PORT'],
    [{ GRPC_PORT: 'abc' }, 'GRPC_PORT'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ DYNAMODB_ENDPOINT: 'localhost:8000' }, 'DYNAMODB_ENDPOINT'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ EVENTS_TABLE: 'a b' }, 'EVENTS_TABLE'],
    [{ DATABASE_POOL_MIN: '10', DATABASE_POOL_MAX: '5' }, 'DATABASE_POOL_MIN'],
    [{ DATABASE_REPLICA_URLS: 'postgres://r/inv' }, 'DATABASE_REPLICA_URLS'],
    [{ DATABASE_LISTEN_URL: 'postgres://db/inv' }, 'DATABASE_LISTEN_URL'],
    [{ DATABASE_URL: 'postgres://proxy/inv', DATABASE_LISTEN_URL: 'db:5432' }, 'DATABASE_LISTEN_URL'],
  ];
  for (const [env, name] of bad) {
    it(`rejects ${JSON.stringify(env)} naming ${name}`, () => {
      expect(() => loadConfig(env)).to.throw(ConfigError, name);
    });
  }
});
