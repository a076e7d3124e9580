import { expect } from 'chai';
import { Code, createInventoryClient, InventoryError, type InventoryClient, type RetryEvent } from '../../clients/src/index.js';
import { ScriptedServer } from '../support/scripted-server.js';

async function rejection(promise: Promise<unknown>): Promise<InventoryError> {
  try {
    await promise;
  } catch (err) {
    expect(err).to.be.instanceOf(InventoryError);
    return err as InventoryError;
  }
  throw new Error('expected the call to fail');
}

describe('client retries against a server that fails on cue (int)', () => {
  let server: ScriptedServer;
  let client: InventoryClient;
  let retries: RetryEvent[];
  let keys: number;

  beforeEach(async () => {
    server = await new ScriptedServer().start();
    retries = [];
    keys = 0;
    client = createInventoryClient(server.address, {
      retry: { initialBackoffMs: 5, maxBackoffMs: 20, onRetry: (e) => retries.push(e) },
      newIdempotencyKey: () => `key-${++keys}`,
      metadata: { 'x-client': 'tests' },
    });
  });
  afterEach(async () => {
    client.close();
    await server.stop();
  });

  it('retries reads on UNAVAILABLE with backoff and succeeds', async () => {
    server.failures.set('GetItem', 2);
    await client.getItem({ sku: 'SKU-1' });
    expect(server.callsOf('GetItem')).to.have.length(3);
    expect(retries.map((r) => [r.method, r.attempt, r.error.code])).to.deep.equal([
      ['/inventory.v1.InventoryService/GetItem', 1, Code.UNAVAILABLE],
      ['/inventory.v1.InventoryService/GetItem', 2, Code.UNAVAILABLE],
    ]);
    for (const r of retries) expect(r.delayMs).to.be.within(0, 20);
    for (const method of ['ListItems', 'GetWarehouse', 'BatchGetStockLevels', 'GetAvailability', 'ListStockMovements']) {
      server.failures.set(method, 1);
    }
    await client.listItems();
    await client.getWarehouse({ code: 'A' });
    await client.batchGetStockLevels({ keys: [{ sku: 'S', warehouseCode: 'A' }] });
    await client.getAvailability({ sku: 'S' });
    await client.listStockMovements({ sku: 'S' });
    expect(retries).to.have.length(7);
  });

  it('gives up after maxAttempts and reports how many attempts were made', async () => {
    server.failures.set('GetItem', 10);
    const err = await rejection(client.getItem({ sku: 'SKU-1' }));
    expect(err.code).to.equal(Code.UNAVAILABLE);
    expect(err.attempts).to.equal(4);
    expect(server.callsOf('GetItem')).to.have.length(4);
  });

  it('never retries a write without an idempotency key field', async () => {
    server.failures.set('CreateItem', 1);
    server.failures.set('CreateWarehouse', 1);
    server.failures.set('UpdateWarehouse', 1);
    expect((await rejection(client.createItem({ sku: 'S', name: 'n' }))).attempts).to.equal(1);
    expect((await rejection(client.createWarehouse({ code: 'A' }))).attempts).to.equal(1);
    expect((await rejection(client.updateWarehouse({ code: 'A', name: 'x' }))).attempts).to.equal(1);
    expect(server.calls).to.have.length(3);
    expect(retries).to.deep.equal([]);
  });

  it('fills an empty idempotency key once per logical call, so every retry sends the same key', async () => {
    server.failures.set('ReceiveStock', 2);
    await client.receiveStock({ sku: 'S', warehouseCode: 'A', quantity: 5 });
    const sent = server.callsOf('ReceiveStock').map((c) => c.request.idempotencyKey);
    expect(sent).to.deep.equal(['key-1', 'key-1', 'key-1']);
    await client.receiveStock({ sku: 'S', warehouseCode: 'A', quantity: 5 });
    expect(server.callsOf('ReceiveStock').at(-1)!.request.idempotencyKey).to.equal('key-2');

    server.failures.set('AdjustStock', 1);
    server.failures.set('TransferStock', 1);
    await client.adjustStock({ sku: 'S', warehouseCode: 'A', change: { $case: 'delta', value: -1 }, reason: 'damaged' });
    await client.transferStock({ sku: 'S', fromWarehouseCode: 'A', toWarehouseCode: 'B', quantity: 1 });
    expect(server.callsOf('AdjustStock').map((c) => c.request.idempotencyKey)).to.deep.equal(['key-3', 'key-3']);
    expect(server.callsOf('TransferStock').map((c) => c.request.idempotencyKey)).to.deep.equal(['key-4', 'key-4']);
  });

  it("keeps the caller's own key, and exposes the key on failure so the caller can repeat safely", async () => {
    server.failures.set('ReceiveStock', 10);
    const err = await rejection(client.receiveStock({ sku: 'S', warehouseCode: 'A', quantity: 5, idempotencyKey: 'po-4711' }));
    expect(err.attempts).to.equal(4);
    expect(err.idempotencyKey).to.equal('po-4711');
    expect(new Set(server.callsOf('ReceiveStock').map((c) => c.request.idempotencyKey))).to.deep.equal(new Set(['po-4711']));
  });

  it('with autoIdempotencyKey off, retries a write only when the caller gave a key', async () => {
    const manual = createInventoryClient(server.address, { autoIdempotencyKey: false, retry: { initialBackoffMs: 1 } });
    try {
      server.failures.set('ReceiveStock', 1);
      const err = await rejection(manual.receiveStock({ sku: 'S', warehouseCode: 'A', quantity: 1 }));
      expect(err.attempts).to.equal(1);
      expect(err.idempotencyKey).to.equal(undefined);
      expect(server.callsOf('ReceiveStock')[0]!.request.idempotencyKey).to.equal('');
      server.failures.set('ReceiveStock', 1);
      await manual.receiveStock({ sku: 'S', warehouseCode: 'A', quantity: 1, idempotencyKey: 'k' });
      expect(server.callsOf('ReceiveStock')).to.have.length(3);
    } finally {
      manual.close();
    }
  });

  it('retries AllocateStock by its allocation_id, and release/fulfil/extend with a key it fills in', async () => {
    server.failures.set('AllocateStock', 1);
    await client.allocateStock({ allocationId: 'order-1', lines: [{ sku: 'S', quantity: 2 }], ttl: { seconds: 900 } });
    const sent = server.callsOf('AllocateStock');
    expect(sent.map((c) => c.request.allocationId)).to.deep.equal(['order-1', 'order-1']);
    expect(keys).to.equal(0); // the client never invents an allocation id

    server.failures.set('AllocateStock', 1);
    const err = await rejection(client.allocateStock({ lines: [{ sku: 'S', quantity: 2 }] }));
    expect(err.attempts).to.equal(1);

    server.failures.set('ReleaseAllocation', 1);
    server.failures.set('FulfillAllocation', 1);
    await client.releaseAllocation({ allocationId: 'order-1' });
    await client.fulfillAllocation({ allocationId: 'order-1' });
    expect(server.callsOf('ReleaseAllocation')).to.have.length(2);
    expect(server.callsOf('FulfillAllocation')).to.have.length(2);
    // A partial shipment's retry carries the first attempt's key, so it cannot ship twice.
    server.failures.set('FulfillAllocation', 1);
    await client.fulfillAllocation({ allocationId: 'order-1', lines: [{ sku: 'S', quantity: 1 }] });
    const partial = server.callsOf('FulfillAllocation').slice(-2).map((c) => c.request.idempotencyKey);
    expect(partial[0]).to.be.a('string').and.not.equal('');
    expect(partial[1]).to.equal(partial[0]);
    server.failures.set('ExtendAllocation', 1);
    await client.extendAllocation({ allocationId: 'order-1', expiry: { $case: 'noExpiry', value: true } });
    expect(server.callsOf('ExtendAllocation')).to.have.length(2);
  });

  it('does not retry codes that are not transient', async () => {
    server.failWith = Code.ABORTED;
    server.failures.set('GetItem', 1);
    expect((await rejection(client.getItem({ sku: 'S' }))).code).to.equal(Code.ABORTED);
    expect(server.callsOf('GetItem')).to.have.length(1);
  });

  it('honours retry: false and custom retryable codes, per client and per call', async () => {
    server.failures.set('GetItem', 1);
    expect((await rejection(client.getItem({ sku: 'S' }, { retry: false }))).attempts).to.equal(1);
    server.failWith = Code.RESOURCE_EXHAUSTED;
    server.failures.set('GetItem', 1);
    await client.getItem({ sku: 'S' }, { retry: { retryableCodes: [Code.UNAVAILABLE, Code.RESOURCE_EXHAUSTED] } });
    expect(server.callsOf('GetItem')).to.have.length(3);
  });

  it('lets methodKinds override the classification, by method name or full path', async () => {
    const custom = createInventoryClient(server.address, {
      retry: { initialBackoffMs: 1 },
      methodKinds: { CreateItem: { kind: 'idempotent' }, 'inventory.v1.InventoryService/GetItem': { kind: 'write' } },
    });
    try {
      server.failures.set('CreateItem', 1);
      await custom.createItem({ sku: 'S', name: 'n' });
      expect(server.callsOf('CreateItem')).to.have.length(2);
      server.failures.set('GetItem', 1);
      expect((await rejection(custom.getItem({ sku: 'S' }))).attempts).to.equal(1);
    } finally {
      custom.close();
    }
  });

  it('stops retrying when the next backoff would pass the deadline', async () => {
    const slow = createInventoryClient(server.address, { retry: { maxAttempts: 50, initialBackoffMs: 400, maxBackoffMs: 400 } });
    try {
      server.failures.set('GetItem', 50);
      const started = Date.now();
      const err = await rejection(slow.getItem({ sku: 'S' }, { deadlineMs: 1000 }));
      // Backoffs are jittered up to 400 ms: the client stops once the next wait would pass
      // the deadline (UNAVAILABLE), or, on a loaded machine, an attempt itself runs into it.
      expect([Code.UNAVAILABLE, Code.DEADLINE_EXCEEDED]).to.include(err.code);
      expect(err.attempts).to.be.below(50);
      expect(Date.now() - started).to.be.below(5000);
    } finally {
      slow.close();
    }
  });

  it('sends client and call metadata with every attempt', async () => {
    server.failures.set('GetItem', 1);
    await client.getItem({ sku: 'S' }, { metadata: { 'x-correlation-id': 'abc-1' } });
    for (const call of server.callsOf('GetItem')) {
      expect(call.metadata.get('x-client')).to.deep.equal(['tests']);
      expect(call.metadata.get('x-correlation-id')).to.deep.equal(['abc-1']);
    }
  });

  it('retries a stream that fails before its first message, but not after one', async () => {
    server.failures.set('Watch', 2);
    const seen: unknown[] = [];
    for await (const update of client.health.watch({ service: '' })) {
      seen.push(update.status);
      if (seen.length === 2) break;
    }
    expect(server.callsOf('Watch')).to.have.length(3);

    server.watchMessagesBeforeFailure = 1;
    const got: unknown[] = [];
    const err = await rejection(
      (async () => {
        for await (const update of client.health.watch({ service: '' })) got.push(update);
      })(),
    );
    expect(got).to.have.length(1);
    expect(err.code).to.equal(Code.UNAVAILABLE);
    expect(err.attempts).to.equal(1);
    expect(server.callsOf('Watch')).to.have.length(4);
  });
});
