import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { credentials, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import { InventoryServiceClient, type InventoryServiceServer } from '../../src/gen/inventory/v1/inventory_service.js';
import { promiseClient, type PromiseClient } from '../support/app.js';
import { healthOf, ServingStatus, waitFor } from '../support/events.js';
import { expectClean, sql, verify } from '../support/replay.js';
import { dynamoEndpoint, freshDatabase, freshTableName } from '../support/stack.js';
import { expectStoresAgree } from '../support/streams.js';

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });

describe('fault: the service is killed (SIGKILL) under write load (e2e)', () => {
  let env: NodeJS.ProcessEnv;
  let address: string;
  let child: ChildProcess | undefined;
  let raw: InventoryServiceClient;
  let c: PromiseClient<InventoryServiceServer>;

  const start = async () => {
    child = spawn(process.execPath, ['dist/src/main.js'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    await waitFor(async () => (await healthOf(address, '').catch(() => undefined)) === ServingStatus.SERVING, 60_000, 'the service to start');
  };

  before(async () => {
    const port = await freePort();
    address = `127.0.0.1:${port}`;
    env = {
      ...process.env,
      DATABASE_URL: await freshDatabase(),
      DYNAMODB_ENDPOINT: dynamoEndpoint(),
      EVENTS_TABLE: freshTableName(),
      GRPC_PORT: String(port),
      LOG_LEVEL: 'silent',
      RELAY_INTERVAL_MS: '200',
      SNAPSHOT_EVERY: '3',
      DATABASE_POOL_MIN: '0',
      // Not the default 9464: another service on this machine may hold it.
      METRICS_PORT: '0',
    };
    raw = new InventoryServiceClient(address, credentials.createInsecure());
    c = promiseClient<InventoryServiceServer>(raw);
  });
  after(() => {
    raw.close();
    if (child && child.exitCode === null) child.kill('SIGKILL');
  });

  it('keeps every acknowledged write, and after a restart every stream is gapless, without duplicates, and verify passes', async function () {
    this.timeout(180_000);
    await start();
    const writers = 8;
    for (let w = 0; w < writers; w++) await c.createWarehouse({ code: `K-${w}`, name: 'k', region: 'eu', priority: 0 });
    await c.createItem({ sku: 'K-SKU', name: 'stock written across the kill', description: '' });
    const acknowledged = new Map<string, number>();
    let acks = 0;
    let failures = 0;
    let stop = false;
    const load = Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        for (let i = 1; !stop; i++) {
          try {
            // Each call is one acknowledged write: a warehouse update, then stock and an allocation.
            const { warehouse } = await c.updateWarehouse({ code: `K-${w}`, priority: i });
            acknowledged.set(`K-${w}`, Number(warehouse!.version));
            acks++;
            const level = { sku: 'K-SKU', warehouseCode: `K-${w}` };
            await c.receiveStock({ ...level, quantity: 2n });
            acks++;
            const allocationId = `k-${w}-${i}`;
            await c.allocateStock({ allocationId, lines: [{ ...level, quantity: 1n }] });
            acks++;
            if (i % 2 === 0) await c.fulfillAllocation({ allocationId });
            else await c.releaseAllocation({ allocationId });
            acks++;
          } catch (err) {
            failures++;
            if ((err as ServiceError).code === undefined) throw err;
            await new Promise((r) => setTimeout(r, 50));
          }
        }
      }),
    );
    await waitFor(() => acks >= 80, 60_000, 'write load');
    child!.kill('SIGKILL');
    await new Promise((r) => child!.once('exit', r));
    const failuresBefore = failures;
    await waitFor(() => failures > failuresBefore, 10_000, 'writes to fail while the service is down');
    await start();
    const acksAtRestart = acks;
    await waitFor(() => acks >= acksAtRestart + 60, 60_000, 'writes after the restart');
    stop = true;
    await load;

    // Every acknowledged change survived the kill.
    for (const [code, version] of acknowledged) {
      expect(Number((await c.getWarehouse({ code })).warehouse!.version)).to.be.at.least(version);
    }
    await waitFor(async () => {
      const rows = await sql<{ n: number }>(env.DATABASE_URL!, 'select count(*)::int as n from event_outbox where appended_at is null or position is null');
      return rows[0]?.n === 0;
    }, 60_000, 'the restarted relay to drain the backlog');
    await expectStoresAgree(env.DATABASE_URL!, env.EVENTS_TABLE!);
    expectClean(await verify(env.DATABASE_URL!, env.EVENTS_TABLE!));
    const positions = await sql<{ position: string }>(env.DATABASE_URL!, 'select position from event_outbox order by position');
    expect(positions.map((r) => Number(r.position))).to.deep.equal(positions.map((_, i) => i + 1));

    child!.kill('SIGTERM');
    const code = await new Promise((r) => child!.once('exit', r));
    expect(code).to.equal(0);
  });
});
