import { expect } from 'chai';
import { ConfigError, DEVELOPMENT_REGION, loadConfig } from '../src/config.js';

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

  describe('NODE_ENV=production', () => {
    const prod = { NODE_ENV: 'production', DATABASE_URL: 'postgres://u:p@db:5432/inv' };

    it('defaults to development: unset database settings mean the embedded servers, with a documented region', () => {
      const c = loadConfig({});
      expect(c.environment).to.equal('development');
      expect(c.dynamodb.embedded).to.equal(true);
      expect(c.dynamodb.region).to.equal(DEVELOPMENT_REGION);
    });

    it('rejects an unknown NODE_ENV instead of guessing (a typo must not mean development)', () => {
      expect(() => loadConfig({ NODE_ENV: 'prod' })).to.throw(ConfigError, 'NODE_ENV');
    });

    it('without any database setting names DATABASE_URL, DYNAMODB_ENDPOINT and AWS_REGION', () => {
      expect(() => loadConfig({ NODE_ENV: 'production' }))
        .to.throw(ConfigError, /DATABASE_URL is unset.*DYNAMODB_ENDPOINT is unset.*AWS_REGION \(or AWS_DEFAULT_REGION\) must be set/);
    });

    it('treats an empty DATABASE_URL as unset', () => {
      expect(() => loadConfig({ ...prod, DATABASE_URL: ' ', AWS_REGION: 'eu-west-1' })).to.throw(ConfigError, 'DATABASE_URL is unset');
    });

    it('without DYNAMODB_ENDPOINT means AWS DynamoDB in AWS_REGION, never the embedded one', () => {
      const c = loadConfig({ ...prod, AWS_REGION: 'eu-central-1' });
      expect(c.environment).to.equal('production');
      expect(c.dynamodb).to.include({ endpoint: undefined, embedded: false, region: 'eu-central-1' });
    });

    it('takes AWS_DEFAULT_REGION when AWS_REGION is unset, and AWS_REGION first when both are', () => {
      expect(loadConfig({ ...prod, AWS_DEFAULT_REGION: 'ap-south-1' }).dynamodb.region).to.equal('ap-south-1');
      expect(loadConfig({ ...prod, AWS_DEFAULT_REGION: 'ap-south-1', AWS_REGION: 'eu-west-1' }).dynamodb.region).to.equal('eu-west-1');
    });

    it('without a region rejects the start, naming both variables', () => {
      expect(() => loadConfig(prod)).to.throw(ConfigError, /DYNAMODB_ENDPOINT is unset.*AWS_REGION/);
      expect(() => loadConfig(prod)).not.to.throw(ConfigError, /DATABASE_URL/);
    });

    it('with DYNAMODB_ENDPOINT still needs a region (no silent us-east-1)', () => {
      expect(() => loadConfig({ ...prod, DYNAMODB_ENDPOINT: 'http://dynamo:8000' })).to.throw(ConfigError, /AWS_REGION \(or AWS_DEFAULT_REGION\) is unset/);
      const c = loadConfig({ ...prod, DYNAMODB_ENDPOINT: 'http://dynamo:8000', AWS_REGION: 'eu-west-1' });
      expect(c.dynamodb).to.include({ endpoint: 'http://dynamo:8000', embedded: false, region: 'eu-west-1' });
    });

    it('in development an endpoint means no embedded server, and AWS_REGION is honoured', () => {
      const c = loadConfig({ DYNAMODB_ENDPOINT: 'http://localhost:8000', AWS_REGION: 'eu-west-1' });
      expect(c.dynamodb).to.include({ embedded: false, region: 'eu-west-1' });
    });
  });
});
