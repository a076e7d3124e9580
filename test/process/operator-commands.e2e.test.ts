import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { credentials } from '@grpc/grpc-js';
import { expect } from 'chai';
import { unreachableAncestor } from '../../src/embedded/reachable.js';
import { InventoryServiceClient, type InventoryServiceServer } from '../../src/gen/inventory/v1/inventory_service.js';
import { promiseClient } from '../support/app.js';
import { freePort, spawnService, waitServing, type ServiceProcess } from '../support/process.js';

const run = promisify(execFile);

/** `make verify` / `make migrate` beside a running `make run`: same environment, no DATABASE_URL. */
describe('operator commands beside a running development service (e2e)', function () {
  this.timeout(240_000);
  let dataDir: string;
  let env: Record<string, string>;
  let address: string;
  let service: ServiceProcess;

  const admin = async (command: string): Promise<{ code: number; output: string }> => {
    try {
      const { stdout, stderr } = await run(process.execPath, ['dist/src/admin/cli.js', command], { env: { ...process.env, ...env } });
      return { code: 0, output: stdout + stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, output: e.stdout + e.stderr };
    }
  };

  before(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'inventory-ops-'));
    await chmod(dataDir, 0o755);
    const grpcPort = await freePort();
    address = `127.0.0.1:${grpcPort}`;
    env = {
      DATA_DIR: dataDir,
      DATABASE_URL: '',
      DYNAMODB_ENDPOINT: '',
      GRPC_PORT: String(grpcPort),
      EMBEDDED_POSTGRES_PORT: String(await freePort()),
      EMBEDDED_DYNAMODB_PORT: String(await freePort()),
      RELAY_INTERVAL_MS: '100',
    };
    service = spawnService(env);
    await waitServing(address, 120_000, service.exited).catch((err: Error) => {
      throw new Error(`${err.message}\n${service.output()}`);
    });
  });

  after(async () => {
    service.child.kill('SIGTERM');
    await service.exited;
    const pidFile = path.join(dataDir, 'postgres', 'postmaster.pid');
    if (existsSync(pidFile)) process.kill(Number(readFileSync(pidFile, 'utf8').split('\n')[0]), 'SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  });

  it('verify and migrate attach to its embedded servers and leave it serving', async () => {
    const raw = new InventoryServiceClient(address, credentials.createInsecure());
    const c = promiseClient<InventoryServiceServer>(raw);
    try {
      await c.createWarehouse({ code: 'WH-1', name: 'one', region: 'eu', priority: 1 });
      await new Promise((r) => setTimeout(r, 500)); // the relay appends the event
      const verify = await admin('verify');
      expect(verify.code, verify.output).to.equal(0);
      expect(verify.output).to.contain('attached to the embedded PostgreSQL of the running service');
      expect(verify.output).to.contain('attached to the embedded DynamoDB API of the running service');
      expect(verify.output).to.not.contain('stopping a stale embedded postgres');
      const migrate = await admin('migrate');
      expect(migrate.code, migrate.output).to.equal(0);
      expect(migrate.output).to.contain('database is up to date');
      // The service never noticed.
      await waitServing(address, 5000);
      await c.createWarehouse({ code: 'WH-2', name: 'two', region: 'eu', priority: 1 });
      expect((await c.listWarehouses({})).warehouses.map((w) => w.code)).to.deep.equal(['WH-1', 'WH-2']);
    } finally {
      raw.close();
    }
  });

  it('a second service on the same DATA_DIR refuses clearly instead of stopping the live database', async () => {
    const second = spawnService({ ...env, GRPC_PORT: String(await freePort()) });
    const exit = await second.exited;
    expect(exit.code).to.not.equal(0);
    expect(second.output()).to.match(/the embedded PostgreSQL in .* is in use by process \d+/);
    await waitServing(address, 5000);
  });

  it('as root, a data directory under a private home is refused with the reason (unit of the check)', async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), 'inventory-home-'));
    try {
      await mkdir(path.join(home, 'checkout', '.data'), { recursive: true });
      await chmod(home, 0o700);
      const postgresUser = { uid: 54_321, gid: 54_321 }; // neither owner nor group of anything here
      expect(await unreachableAncestor(path.join(home, 'checkout', '.data', 'postgres'), postgresUser)).to.equal(home);
      await chmod(home, 0o711);
      expect(await unreachableAncestor(path.join(home, 'checkout', '.data', 'postgres'), postgresUser)).to.equal(undefined);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});
