import { expect } from 'chai';
import {
  Code,
  createInventoryClient,
  InventoryError,
  isInventoryError,
  ServingStatus,
  type InventoryClient,
} from '../../clients/src/index.js';
import { startTestApp, type TestApp } from '../support/app.js';

/** Watchers grpc-health-check keeps per service; one per open Watch call. */
function watcherCount(t: TestApp, service: string): number {
  const health = t.app.grpc.health as unknown as { watchers: Map<string, Set<unknown>> };
  return health.watchers.get(service)?.size ?? 0;
}

async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function rejection(promise: Promise<unknown>): Promise<InventoryError> {
  try {
    await promise;
  } catch (err) {
    expect(err).to.be.instanceOf(InventoryError);
    return err as InventoryError;
  }
  throw new Error('expected the call to fail');
}

describe('client package against the real server (e2e)', () => {
  let t: TestApp;
  let client: InventoryClient;
  before(async () => {
    t = await startTestApp();
    client = createInventoryClient(t.address, { deadlineMs: 15_000 });
  });
  after(async () => {
    client.close();
    await t.stop();
  });

  it('creates, reads and lists warehouses and items with promise methods', async () => {
    const { warehouse } = await client.createWarehouse({ code: 'BER-1', name: 'Berlin', region: 'eu-central', priority: 10 });
    expect(warehouse).to.include({ code: 'BER-1', active: true });
    expect(warehouse!.version).to.equal(1);
    expect(warehouse!.createTime).to.be.instanceOf(Date);
    await client.createWarehouse({ code: 'HAM-1', name: 'Hamburg', region: 'eu-central', priority: 20, active: false });
    const updated = await client.updateWarehouse({ code: 'HAM-1', active: true, expectedVersion: 1 });
    expect(updated.warehouse!.version).to.equal(2);

    await client.createItem({ sku: 'SKU-1', name: 'Blue mug' });
    await client.createItem({ sku: 'SKU-2', name: 'Red mug', description: 'ceramic' });
    const { item } = await client.getItem({ sku: 'SKU-2', consistent: true });
    expect(item).to.include({ sku: 'SKU-2', name: 'Red mug', description: 'ceramic' });

    const page = await client.listWarehouses();
    expect(page.warehouses.map((w) => w.code)).to.deep.equal(['BER-1', 'HAM-1']);
    const items = await client.listItems({ skuPrefix: 'SKU-', pageSize: 1 });
    expect(items.items.map((i) => i.sku)).to.deep.equal(['SKU-1']);
    expect(items.nextPageToken).to.not.equal('');
  });

  it('rejects with a typed error carrying the code, the message and the bad field', async () => {
    const err = await rejection(client.createWarehouse({ code: 'bad code', name: 'x', region: 'r' }));
    expect(err.code).to.equal(Code.INVALID_ARGUMENT);
    expect(err.codeName).to.equal('INVALID_ARGUMENT');
    expect(err.statusMessage).to.match(/^code:/);
    expect(err.message).to.equal(`INVALID_ARGUMENT: ${err.statusMessage}`);
    expect(err.reason).to.equal('INVALID_ARGUMENT');
    expect(err.domain).to.equal('inventory.v1');
    expect(err.field).to.equal('code');
    expect(err.fieldViolations).to.deep.equal([{ field: 'code', description: err.statusMessage }]);
    expect(err.method).to.equal('/inventory.v1.InventoryService/CreateWarehouse');
    expect(err.attempts).to.equal(1);
    expect(isInventoryError(err, Code.INVALID_ARGUMENT)).to.equal(true);

    const dup = await rejection(client.createWarehouse({ code: 'BER-1', name: 'Again', region: 'eu' }));
    expect(dup.code).to.equal(Code.ALREADY_EXISTS);
    expect(dup.details).to.include({ resource: 'warehouse', id: 'BER-1' });

    const missing = await rejection(client.getItem({ sku: 'NOPE' }));
    expect(missing.code).to.equal(Code.NOT_FOUND);
    expect(missing.reason).to.equal('NOT_FOUND');

    const stale = await rejection(client.updateWarehouse({ code: 'BER-1', name: 'x', expectedVersion: 7 }));
    expect(stale.code).to.equal(Code.ABORTED);
    expect(stale.attempts).to.equal(1); // ABORTED is not transient: no retry
  });

  it('checks health and streams Watch updates as an async iterable', async () => {
    expect((await client.health.check({ service: 'inventory.v1.InventoryService' })).status).to.equal(ServingStatus.SERVING);
    const seen: ServingStatus[] = [];
    for await (const update of client.health.watch({ service: '' })) {
      seen.push(update.status);
      if (seen.length === 1) t.app.grpc.health.setStatus('', 'NOT_SERVING');
      if (seen.length === 2) break;
    }
    t.app.grpc.health.setStatus('', 'SERVING');
    expect(seen).to.deep.equal([ServingStatus.SERVING, ServingStatus.NOT_SERVING]);
  });

  it('cancels the call on the server when the loop exits early', async () => {
    const service = 'inventory.v1.InventoryService';
    for await (const update of client.health.watch({ service })) {
      expect(update.status).to.equal(ServingStatus.SERVING);
      expect(watcherCount(t, service)).to.equal(1);
      break;
    }
    await until('the server to see the cancellation', () => watcherCount(t, service) === 0);

    // An exception thrown in the loop body cancels too, and propagates unchanged.
    const boom = new Error('consumer failed');
    let caught: unknown;
    try {
      for await (const _ of client.health.watch({ service })) throw boom;
    } catch (err) {
      caught = err;
    }
    expect(caught).to.equal(boom);
    await until('the server to see the cancellation', () => watcherCount(t, service) === 0);
  });

  it('ends a stream quietly on cancel() and rejects with DEADLINE_EXCEEDED past its deadline', async () => {
    const service = 'inventory.v1.InventoryService';
    const stream = client.health.watch({ service });
    const seen: ServingStatus[] = [];
    for await (const update of stream) {
      seen.push(update.status);
      setTimeout(() => stream.cancel(), 10);
    }
    expect(seen).to.deep.equal([ServingStatus.SERVING]);
    await until('the server to see the cancellation', () => watcherCount(t, service) === 0);

    const err = await rejection(
      (async () => {
        for await (const _ of client.health.watch({ service }, { deadlineMs: 300 })) {
          // Watch never ends by itself: only the deadline stops it.
        }
      })(),
    );
    expect(err.code).to.equal(Code.DEADLINE_EXCEEDED);
  });

  it('rejects with the abort reason when the signal fires, for unary calls and streams', async () => {
    const controller = new AbortController();
    controller.abort(new Error('shutting down'));
    try {
      await client.getItem({ sku: 'SKU-1' }, { signal: controller.signal });
      expect.fail('should have been aborted');
    } catch (err) {
      expect((err as Error).message).to.equal('shutting down');
    }

    const streaming = new AbortController();
    const service = 'inventory.v1.InventoryService';
    let caught: unknown;
    try {
      for await (const _ of client.health.watch({ service }, { signal: streaming.signal })) streaming.abort();
    } catch (err) {
      caught = err;
    }
    expect((caught as Error).name).to.equal('AbortError');
    await until('the server to see the cancellation', () => watcherCount(t, service) === 0);
  });

  it('retries a read until a server that was down comes up, within the deadline', async () => {
    // A port nothing listens on yet: take one from the OS, release it, start the server there later.
    const { createServer } = await import('node:net');
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const retries: number[] = [];
    let late: Promise<TestApp> | undefined;
    const c = createInventoryClient(`127.0.0.1:${port}`, {
      deadlineMs: 60_000,
      retry: {
        maxAttempts: 100,
        initialBackoffMs: 50,
        maxBackoffMs: 300,
        onRetry: (e) => {
          retries.push(e.attempt);
          expect(e.error.code).to.equal(Code.UNAVAILABLE);
          late ??= startTestApp({ GRPC_PORT: String(port) });
        },
      },
    });
    try {
      const page = await c.listWarehouses({});
      expect(page.warehouses).to.deep.equal([]);
      expect(retries.length).to.be.at.least(1);
      // A write without an idempotency key is never retried: one attempt, then the error.
      const other = createInventoryClient('127.0.0.1:1', { retry: { initialBackoffMs: 1 } });
      const err = await rejection(other.createItem({ sku: 'X', name: 'x' }));
      other.close();
      expect(err.code).to.equal(Code.UNAVAILABLE);
      expect(err.attempts).to.equal(1);
    } finally {
      c.close();
      await (await late)?.stop();
    }
  });
});
