import { credentials, status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { AllocationStatus } from '../../../src/gen/inventory/v1/allocation.js';
import { EventServiceClient } from '../../../src/gen/inventory/v1/event_service.js';
import { failure, startTestApp, type TestApp } from '../../support/app.js';
import { eventually, readStream } from '../../support/dynamo.js';
import { streamEvents } from '../../support/events.js';
import { drained, expectClean, rebuild, sql, verify, rebuildIntoEmpty } from '../../support/replay.js';
import { closeAll, TestPki, writePolicy, type CertFiles } from '../../support/security.js';

const CHECKOUT = 'spiffe://test/ns/orders/sa/checkout';
const RETURNS = 'spiffe://test/ns/orders/sa/returns';

describe('who did it: actors, allocation owners, idempotency keys per caller (e2e, mTLS)', () => {
  let pki: TestPki;
  let t: TestApp;
  const certs: Record<string, CertFiles> = {};
  const clients: Array<{ close(): void }> = [];
  const as = async (name: string) => {
    const c = await pki.inventory(t.address, certs[name]);
    clients.push(c.raw);
    return c.client;
  };
  before(async () => {
    pki = await TestPki.create();
    certs.checkout = await pki.client('checkout', { san: `URI:${CHECKOUT}` });
    certs.returns = await pki.client('returns', { san: `URI:${RETURNS}` });
    certs.keeperA = await pki.client('keeper-a', { san: 'DNS:keeper-a.test' });
    certs.keeperB = await pki.client('keeper-b', { cn: 'keeper-b' });
    certs.admin = await pki.client('admin', { san: 'DNS:admin.test' });
    certs.auditor = await pki.client('auditor', { san: 'DNS:auditor.test' });
    const policy = await writePolicy(pki.dir, {
      identities: [
        { identity: 'spiffe://test/ns/orders/**', roles: ['allocator'] },
        { identity: 'keeper-a.test', roles: ['stock-keeper'] },
        { identity: 'keeper-b', roles: ['stock-keeper'] },
        { identity: 'admin.test', roles: ['admin'] },
        { identity: 'auditor.test', roles: ['auditor'] },
      ],
    });
    t = await startTestApp({ ...pki.env(true), AUTH_POLICY_FILE: policy });
    const admin = await as('admin');
    await admin.createWarehouse({ code: 'BER-1', name: 'Berlin', region: 'eu', priority: 1 });
    await admin.createItem({ sku: 'SKU-1', name: 'Mug' });
    await admin.receiveStock({ sku: 'SKU-1', warehouseCode: 'BER-1', quantity: 100n });
  });
  after(async () => {
    closeAll(...(clients as never[]));
    await t?.stop();
  });

  it('records the caller as actor in the outbox, the DynamoDB items and StreamEvents', async () => {
    const checkout = await as('checkout');
    await checkout.allocateStock({ allocationId: 'order-1', lines: [{ sku: 'SKU-1', quantity: 2n }] });
    const rows = await sql<{ type: string; actor: string }>(t.databaseUrl, `select type, actor from event_outbox where correlation_id in (select correlation_id from event_outbox where stream_id = 'allocation#order-1')`);
    expect(rows.map((r) => r.actor)).to.deep.equal(rows.map(() => CHECKOUT));
    expect(rows.map((r) => r.type).sort()).to.deep.equal(['AllocationCreated', 'StockAllocated']);

    const stored = await eventually(async () => {
      const items = await readStream(t.table, 'allocation#order-1');
      expect(items).to.have.length(1);
      return items;
    });
    expect(stored[0]!.actor).to.equal(CHECKOUT);
    const stock = await readStream(t.table, 'stock#SKU-1#BER-1');
    expect(stock.map((e) => e.actor)).to.deep.equal(['admin.test', CHECKOUT]);

    const events = new EventServiceClient(t.address, await pki.credentials(certs.auditor), { 'grpc.ssl_target_name_override': 'localhost' });
    clients.push(events);
    const streamed = await streamEvents(events, { streamId: 'allocation#order-1' });
    expect(streamed.map((e) => e.actor)).to.deep.equal([CHECKOUT]);
  });

  it('only the owner or an admin may release or fulfil an allocation', async () => {
    const checkout = await as('checkout');
    const returns = await as('returns');
    await checkout.allocateStock({ allocationId: 'order-2', lines: [{ sku: 'SKU-1', quantity: 1n }] });
    const denied = await failure(returns.releaseAllocation({ allocationId: 'order-2' }));
    expect(denied.code).to.equal(status.PERMISSION_DENIED);
    expect(denied.details).to.match(/allocation "order-2" belongs to another caller/);
    expect((await failure(returns.fulfillAllocation({ allocationId: 'order-2' }))).code).to.equal(status.PERMISSION_DENIED);
    // The partial calls and ExtendAllocation follow the same rule.
    const partial = { allocationId: 'order-2', lines: [{ sku: 'SKU-1', warehouseCode: '', quantity: 1n }], idempotencyKey: 'part-1' };
    expect((await failure(returns.fulfillAllocation(partial))).code).to.equal(status.PERMISSION_DENIED);
    expect((await failure(returns.releaseAllocation(partial))).code).to.equal(status.PERMISSION_DENIED);
    const extend = await failure(returns.extendAllocation({ allocationId: 'order-2', expiry: { $case: 'noExpiry', value: true }, idempotencyKey: '' }));
    expect(extend.code).to.equal(status.PERMISSION_DENIED);
    expect(extend.details).to.match(/allocation "order-2" belongs to another caller; only it or an admin may extend it/);
    // The same id from another caller is taken, and nothing of the allocation leaks.
    const clash = await failure(returns.allocateStock({ allocationId: 'order-2', lines: [{ sku: 'SKU-1', quantity: 1n }] }));
    expect(clash.code).to.equal(status.ALREADY_EXISTS);
    expect(clash.details).to.equal('allocation_id "order-2" is taken by another caller; use a new allocation_id');

    expect((await checkout.releaseAllocation({ allocationId: 'order-2' })).allocation!.status).to.equal(AllocationStatus.ALLOCATION_STATUS_RELEASED);
    await checkout.allocateStock({ allocationId: 'order-3', lines: [{ sku: 'SKU-1', quantity: 1n }] });
    const admin = await as('admin');
    await admin.fulfillAllocation({ allocationId: 'order-3' });
    const events = await eventually(async () => {
      const e = await readStream(t.table, 'allocation#order-3');
      expect(e).to.have.length(2);
      return e;
    });
    expect(events.map((e) => [e.type, e.actor])).to.deep.equal([
      ['AllocationCreated', CHECKOUT],
      ['AllocationFulfilled', 'admin.test'],
    ]);
  });

  it('the same idempotency key from two callers is two keys', async () => {
    const a = await as('keeperA');
    const b = await as('keeperB');
    const first = await a.receiveStock({ sku: 'SKU-1', warehouseCode: 'BER-1', quantity: 5n, idempotencyKey: 'delivery-7' });
    const other = await b.receiveStock({ sku: 'SKU-1', warehouseCode: 'BER-1', quantity: 9n, idempotencyKey: 'delivery-7' });
    expect(other.stockLevel!.version).to.equal(first.stockLevel!.version + 1n);
    // A retry by each caller is still recognised as its own.
    expect((await a.receiveStock({ sku: 'SKU-1', warehouseCode: 'BER-1', quantity: 5n, idempotencyKey: 'delivery-7' })).stockLevel).to.deep.equal(first.stockLevel);
    const mismatch = await failure(b.receiveStock({ sku: 'SKU-1', warehouseCode: 'BER-1', quantity: 5n, idempotencyKey: 'delivery-7' }));
    expect(mismatch.code).to.equal(status.FAILED_PRECONDITION);
  });

  it('the expiry sweeper acts as system:expiry-sweeper', async () => {
    const checkout = await as('checkout');
    await checkout.allocateStock({ allocationId: 'order-ttl', lines: [{ sku: 'SKU-1', quantity: 1n }], ttl: { seconds: 1n, nanos: 0 } });
    const events = await eventually(async () => {
      const e = await readStream(t.table, 'allocation#order-ttl');
      expect(e).to.have.length(2);
      return e;
    }, 20_000);
    expect(events[1]!).to.include({ type: 'AllocationExpired', actor: 'system:expiry-sweeper' });
  });

  it('verify compares allocation owners with the actors of the events; rebuild restores them', async () => {
    await drained(t.app);
    expectClean(await verify(t.databaseUrl, t.table));
    await sql(t.databaseUrl, `update allocation set owner = 'someone-else' where allocation_id = 'order-1'`);
    try {
      const r = await verify(t.databaseUrl, t.table);
      expect(r.lines.join('\n')).to.match(/allocation#order-1: .*owner/);
    } finally {
      await sql(t.databaseUrl, `update allocation set owner = $1 where allocation_id = 'order-1'`, [CHECKOUT]);
    }
    const { url } = await rebuildIntoEmpty(t.table);
    const owners = await sql<{ allocation_id: string; owner: string }>(url, `select allocation_id, owner from allocation order by allocation_id`);
    expect(owners.find((o) => o.allocation_id === 'order-1')?.owner).to.equal(CHECKOUT);
    expectClean(await verify(url, t.table));
  });
});

describe('actors without authentication (e2e)', () => {
  it('events read anonymous when authentication is off, and unknown when they predate actors', async () => {
    const t = await startTestApp();
    try {
      await t.client.createWarehouse({ code: 'ANON-1', name: 'Anon', region: 'eu', priority: 1 });
      // An event from before actors: no actor attribute in its DynamoDB item.
      const { PutItemCommand } = await import('@aws-sdk/client-dynamodb');
      const { testDynamoClient } = await import('../../support/dynamo.js');
      const dynamo = testDynamoClient();
      try {
        await dynamo.send(
          new PutItemCommand({
            TableName: t.table,
            Item: {
              streamId: { S: 'item#OLD-1' },
              version: { N: '1' },
              eventId: { S: '00000000-0000-4000-8000-000000000001' },
              type: { S: 'ItemCreated' },
              schemaVersion: { N: '1' },
              correlationId: { S: 'c' },
              occurredAt: { S: new Date().toISOString() },
              payload: { S: JSON.stringify({ sku: 'OLD-1', name: 'Old', description: '' }) },
            },
          }),
        );
      } finally {
        dynamo.destroy();
      }
      const events = new EventServiceClient(t.address, credentials.createInsecure());
      try {
        const anon = await eventually(async () => {
          const e = await streamEvents(events, { streamId: 'warehouse#ANON-1' });
          expect(e).to.have.length(1);
          return e;
        });
        expect(anon[0]!.actor).to.equal('anonymous');
        expect((await streamEvents(events, { streamId: 'item#OLD-1' }))[0]!.actor).to.equal('unknown');
      } finally {
        events.close();
      }
    } finally {
      await t.stop();
    }
  });
});
