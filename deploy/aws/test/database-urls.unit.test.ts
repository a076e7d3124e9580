import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { databaseUrls } from '../../../docker/database-urls.mjs';

describe('docker/database-urls.mjs', () => {
  const base = { DATABASE_HOST: 'db.internal', DATABASE_USER: 'inventory', DATABASE_PASSWORD: 'pw', DATABASE_URL_PARAMS: 'sslmode=verify-full' };

  it('sends the pool to the proxy and LISTEN to the primary', () => {
    const urls = databaseUrls({ ...base, DATABASE_PROXY_HOST: 'proxy.internal', DATABASE_REPLICA_HOSTS: 'r1.internal, r2.internal' });
    assert.equal(urls.DATABASE_URL, 'postgresql://inventory:pw@proxy.internal:5432/inventory?sslmode=verify-full');
    assert.equal(urls.DATABASE_LISTEN_URL, 'postgresql://inventory:pw@db.internal:5432/inventory?sslmode=verify-full');
    assert.equal(
      urls.DATABASE_REPLICA_URLS,
      'postgresql://inventory:pw@r1.internal:5432/inventory?sslmode=verify-full,postgresql://inventory:pw@r2.internal:5432/inventory?sslmode=verify-full',
    );
  });

  it('percent-encodes credentials, so any password survives URL parsing', () => {
    const password = 'a@b:c/d?e#f%g h+i,j';
    const urls = databaseUrls({ ...base, DATABASE_PASSWORD: password });
    const url = new URL(urls.DATABASE_URL!);
    assert.equal(decodeURIComponent(url.password), password);
    assert.equal(url.hostname, 'db.internal');
    assert.equal(urls.DATABASE_REPLICA_URLS, undefined);
  });

  it('leaves a given DATABASE_URL, or no DATABASE_HOST, alone', () => {
    assert.deepEqual(databaseUrls({ ...base, DATABASE_URL: 'postgres://x/y' }), {});
    assert.deepEqual(databaseUrls({ DATABASE_USER: 'u' }), {});
  });

  it('refuses a host without credentials', () => {
    assert.throws(() => databaseUrls({ DATABASE_HOST: 'db' }), /DATABASE_USER or DATABASE_PASSWORD/);
  });
});
