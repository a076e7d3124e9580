import { status } from '@grpc/grpc-js';
import { Metadata } from '@grpc/grpc-js';
import { expect } from 'chai';
import type { InventoryServiceServer } from '../../src/gen/inventory/v1/inventory_service.js';
import { failure, startTestApp, type PromiseClient, type TestApp } from '../support/app.js';
import { drained } from '../support/replay.js';
import { eventually, readStream } from '../support/dynamo.js';

describe('items (e2e)', () => {
  let t: TestApp;
  let c: PromiseClient<InventoryServiceServer>;
  before(async () => {
    t = await startTestApp();
    c = t.client;
  });
  after(() => t.stop());

  it('creates an item, reads it back, and records ItemCreated with the caller correlation id', async () => {
    const metadata = new Metadata();
    metadata.set('x-correlation-id', 'order-flow-42');
    const { item } = await c.createItem({ sku: 'SKU-1', name: 'Blue mug', description: '350 ml' }, metadata);
    expect(item).to.include({ sku: 'SKU-1', name: 'Blue mug', description: '350 ml' });
    expect(item!.version).to.equal(1n);
    expect((await c.getItem({ sku: 'SKU-1' })).item).to.deep.equal(item);
    const [event] = await eventually(async () => {
      const e = await readStream(t.table, 'item#SKU-1');
      expect(e).to.have.length(1);
      return e;
    });
    expect(event).to.include({ type: 'ItemCreated', version: 1, correlationId: 'order-flow-42', schemaVersion: 1 });
    expect(event!.data).to.deep.equal({ sku: 'SKU-1', name: 'Blue mug', description: '350 ml' });
  });

  it('generates a correlation id when the caller sends none', async () => {
    await c.createItem({ sku: 'SKU-2', name: 'Red mug' });
    const [event] = await eventually(async () => {
      const e = await readStream(t.table, 'item#SKU-2');
      expect(e).to.have.length(1);
      return e;
    });
    expect(event!.correlationId).to.match(/^[0-9a-f-]{36}$/);
  });

  it('rejects a duplicate sku with ALREADY_EXISTS and records nothing more', async () => {
    const err = await failure(c.createItem({ sku: 'SKU-1', name: 'Other' }));
    expect(err.code).to.equal(status.ALREADY_EXISTS);
    expect(err.details).to.contain('SKU-1');
    await drained(t.app);
    expect(await readStream(t.table, 'item#SKU-1')).to.have.length(1);
  });

  it('concurrent creates of one sku: exactly one wins, the others get ALREADY_EXISTS', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => c.createItem({ sku: 'RACE-1', name: `attempt ${i}` })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).to.have.length(1);
    for (const r of results) {
      if (r.status === 'rejected') expect((r.reason as { code: number }).code).to.equal(status.ALREADY_EXISTS);
    }
    await drained(t.app);
    expect(await readStream(t.table, 'item#RACE-1')).to.have.length(1);
  });

  const bad: Array<[string, Record<string, unknown>, string]> = [
    ['an empty sku', { sku: '' }, 'sku'],
    ['a sku with a space', { sku: 'SKU 3' }, 'sku'],
    ['a sku with #', { sku: 'SKU#3' }, 'sku'],
    ['a 65-char sku', { sku: 'S'.repeat(65) }, 'sku'],
    ['an empty name', { name: '' }, 'name'],
    ['a 201-char name', { name: 'n'.repeat(201) }, 'name'],
    ['a 2001-char description', { description: 'd'.repeat(2001) }, 'description'],
  ];
  for (const [what, req, field] of bad) {
    it(`rejects ${what} with INVALID_ARGUMENT naming ${field}`, async () => {
      const err = await failure(c.createItem({ sku: 'SKU-9', name: 'Nine', ...req }));
      expect(err.code).to.equal(status.INVALID_ARGUMENT);
      expect(err.details).to.match(new RegExp(`^${field}:`));
      expect((await failure(c.getItem({ sku: 'SKU-9' }))).code).to.equal(status.NOT_FOUND);
    });
  }

  it('GetItem: NOT_FOUND for an unknown sku, INVALID_ARGUMENT for a malformed one', async () => {
    const missing = await failure(c.getItem({ sku: 'NOPE' }));
    expect(missing.code).to.equal(status.NOT_FOUND);
    expect(missing.details).to.contain('NOPE');
    const malformed = await failure(c.getItem({ sku: '' }));
    expect(malformed.code).to.equal(status.INVALID_ARGUMENT);
    expect(malformed.details).to.match(/^sku:/);
  });

  it('lists items in sku order, filtered by prefix, page by page', async () => {
    for (const sku of ['MUG-3', 'MUG-1', 'PLATE-1', 'MUG-2', 'MUG_X', 'MUGS']) await c.createItem({ sku, name: sku });
    const collect = async (skuPrefix: string, pageSize: number) => {
      const skus: string[] = [];
      let pageToken = '';
      do {
        const page = await c.listItems({ skuPrefix, pageSize, pageToken });
        expect(page.items.length).to.be.at.most(pageSize);
        skus.push(...page.items.map((i) => i.sku));
        pageToken = page.nextPageToken;
      } while (pageToken !== '');
      return skus;
    };
    expect(await collect('MUG-', 2)).to.deep.equal(['MUG-1', 'MUG-2', 'MUG-3']);
    // '_' is a literal in a prefix, not a LIKE wildcard.
    expect(await collect('MUG_', 10)).to.deep.equal(['MUG_X']);
    expect(await collect('', 3)).to.deep.equal(['MUG-1', 'MUG-2', 'MUG-3', 'MUGS', 'MUG_X', 'PLATE-1', 'RACE-1', 'SKU-1', 'SKU-2']);
    expect(await collect('NOTHING', 5)).to.deep.equal([]);
  });

  it('ListItems rejects a token made for another prefix, a bad prefix and a bad page size', async () => {
    const first = await c.listItems({ skuPrefix: 'MUG-', pageSize: 1 });
    expect(first.nextPageToken).to.not.equal('');
    const other = await failure(c.listItems({ skuPrefix: 'PLATE', pageSize: 1, pageToken: first.nextPageToken }));
    expect(other.code).to.equal(status.INVALID_ARGUMENT);
    expect(other.details).to.match(/^page_token:/);
    const prefix = await failure(c.listItems({ skuPrefix: 'bad prefix' }));
    expect(prefix.details).to.match(/^sku_prefix:/);
    const size = await failure(c.listItems({ pageSize: -1 }));
    expect(size.details).to.match(/^page_size:/);
  });
});
