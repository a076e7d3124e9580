import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import { HealthCheckResponse_ServingStatus as Serving, HealthClient } from '../../src/gen/grpc/health/v1/health.js';
import { failure, startTestApp, type TestApp } from '../support/app.js';
import { freePort, spawnService, waitServing } from '../support/process.js';
import { dynamoEndpoint, freshDatabase, freshTableName } from '../support/stack.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

const via = (url: string, port: number) => {
  const u = new URL(url);
  u.port = String(port);
  return u.toString();
};

function healthOf(address: string) {
  const client = new HealthClient(address, credentials.createInsecure());
  const check = (service: string) =>
    new Promise<number>((resolve, reject) =>
      client.check({ service }, new Metadata(), { deadline: Date.now() + 2000 }, (err, res) => (err ? reject(err) : resolve(res.status))),
    );
  return { client, check };
}

/** Polls until `check` gives `want`; returns how long that took. */
async function until(check: () => Promise<number>, want: number, ms: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    if ((await check()) === want) return Date.now() - started;
    if (Date.now() - started > ms) throw new Error(`health not ${Serving[want]} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('health follows the dependencies (e2e)', function () {
  this.timeout(120_000);

  describe('PostgreSQL and the event table cut through TCP proxies', () => {
    let t: TestApp;
    let pgProxy: TcpProxy;
    let dynamoProxy: TcpProxy;
    let health: ReturnType<typeof healthOf>;
    let pgTarget: number;
    let dynamoTarget: number;

    before(async () => {
      const db = await freshDatabase();
      pgTarget = Number(new URL(db).port);
      dynamoTarget = Number(new URL(dynamoEndpoint()).port);
      pgProxy = await startTcpProxy(pgTarget);
      dynamoProxy = await startTcpProxy(dynamoTarget);
      t = await startTestApp(
        {
          DYNAMODB_ENDPOINT: `http://127.0.0.1:${dynamoProxy.port}`,
          HEALTH_PROBE_INTERVAL_MS: '500',
          HEALTH_PROBE_TIMEOUT_MS: '1000',
          DATABASE_CONNECT_TIMEOUT_MS: '1000',
          CACHE_MAX_ENTRIES: '0',
        },
        { databaseUrl: via(db, pgProxy.port) },
      );
      health = healthOf(t.address);
    });
    after(async () => {
      health.client.close();
      await t.stop();
      await pgProxy.close().catch(() => undefined);
      await dynamoProxy.close().catch(() => undefined);
    });

    it('turns NOT_SERVING within a few seconds of PostgreSQL going away, and SERVING on recovery', async () => {
      for (const name of ['', 'inventory.v1.InventoryService', 'inventory.v1.EventService']) expect(await health.check(name)).to.equal(Serving.SERVING);
      await pgProxy.close();
      const down = await until(() => health.check(''), Serving.NOT_SERVING, 5000);
      expect(await health.check('inventory.v1.InventoryService')).to.equal(Serving.NOT_SERVING);
      expect(await health.check('inventory.v1.EventService')).to.equal(Serving.NOT_SERVING);
      const err: ServiceError = await failure(t.client.getWarehouse({ code: 'WH-1', consistent: true }));
      expect(err.code).to.equal(status.UNAVAILABLE);
      pgProxy = await startTcpProxy(pgTarget, '127.0.0.1', pgProxy.port);
      const up = await until(() => health.check(''), Serving.SERVING, 5000);
      expect(await health.check('inventory.v1.InventoryService')).to.equal(Serving.SERVING);
      await t.client.createWarehouse({ code: 'WH-1', name: 'after', region: 'eu', priority: 1 });
      expect({ downWithin5s: down < 5000, upWithin5s: up < 5000 }).to.deep.equal({ downWithin5s: true, upWithin5s: true });
    });

    it('an unreachable event table takes only inventory.v1.EventService out; writes go on into the outbox', async () => {
      await dynamoProxy.close();
      await until(() => health.check('inventory.v1.EventService'), Serving.NOT_SERVING, 5000);
      expect(await health.check('')).to.equal(Serving.SERVING);
      expect(await health.check('inventory.v1.InventoryService')).to.equal(Serving.SERVING);
      await t.client.createWarehouse({ code: 'WH-2', name: 'during', region: 'eu', priority: 1 });
      dynamoProxy = await startTcpProxy(dynamoTarget, '127.0.0.1', dynamoProxy.port);
      await until(() => health.check('inventory.v1.EventService'), Serving.SERVING, 5000);
    });

    it('a Watch sees each change once', async () => {
      const seen: number[] = [];
      const watch = health.client.watch({ service: '' });
      watch.on('data', (m: { status: number }) => seen.push(m.status));
      watch.on('error', () => undefined);
      await new Promise((r) => setTimeout(r, 300));
      await pgProxy.close();
      await until(async () => seen[seen.length - 1] ?? -1, Serving.NOT_SERVING, 5000);
      pgProxy = await startTcpProxy(pgTarget, '127.0.0.1', pgProxy.port);
      await until(async () => seen[seen.length - 1] ?? -1, Serving.SERVING, 5000);
      await new Promise((r) => setTimeout(r, 1500)); // three more probe rounds: no repeats
      watch.cancel();
      expect(seen).to.deep.equal([Serving.SERVING, Serving.NOT_SERVING, Serving.SERVING]);
    });
  });

  it('SIGTERM with a Health/Watch open finishes fast (the Watch ends with UNAVAILABLE)', async () => {
    const port = await freePort();
    const proc = spawnService({
      GRPC_PORT: String(port),
      DATABASE_URL: await freshDatabase(),
      DYNAMODB_ENDPOINT: dynamoEndpoint(),
      EVENTS_TABLE: freshTableName(),
      SHUTDOWN_TIMEOUT_MS: '10000',
    });
    const address = `127.0.0.1:${port}`;
    await waitServing(address, 60_000, proc.exited);
    const { client } = healthOf(address);
    const watch = client.watch({ service: '' });
    const ended = new Promise<ServiceError>((resolve) => watch.on('error', resolve));
    watch.on('data', () => undefined);
    await new Promise((r) => setTimeout(r, 200));
    const started = Date.now();
    proc.child.kill('SIGTERM');
    const exit = await proc.exited;
    const tookMs = Date.now() - started;
    client.close();
    expect(exit.code, proc.output()).to.equal(0);
    expect((await ended).code).to.equal(status.UNAVAILABLE);
    // SHUTDOWN_TIMEOUT_MS is 10 s: an open Watch used to hold the stop for all of it.
    expect(tookMs, `stop took ${tookMs} ms`).to.be.lessThan(5000);
  });
});
