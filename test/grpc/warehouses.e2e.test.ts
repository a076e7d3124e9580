import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import type { CreateWarehouseRequest, InventoryServiceServer } from '../../src/gen/inventory/v1/inventory_service.js';
import { failure, startTestApp, type PromiseClient, type TestApp } from '../support/app.js';
import { drained } from '../support/replay.js';
import { eventually, readStream, scanAll } from '../support/dynamo.js';

describe('warehouses (e2e)', () => {
  let t: TestApp;
  let c: PromiseClient<InventoryServiceServer>;
  before(async () => {
    t = await startTestApp();
    c = t.client;
  });
  after(() => t.stop());

  const create = (req: Partial<CreateWarehouseRequest> = {}) =>
    c.createWarehouse({ code: 'BER-1', name: 'Berlin', region: 'eu-central', priority: 10, ...req });

  it('creates a warehouse, reads it back and records a WarehouseCreated event', async () => {
    const { warehouse } = await create();
    expect(warehouse).to.include({ code: 'BER-1', name: 'Berlin', region: 'eu-central', priority: 10, active: true });
    expect(warehouse!.version).to.equal(1n);
    expect(warehouse!.createTime).to.be.instanceOf(Date);
    const got = await c.getWarehouse({ code: 'BER-1' });
    expect(got.warehouse).to.deep.equal(warehouse);
    const events = await eventually(async () => {
      const e = await readStream(t.table, 'warehouse#BER-1');
      expect(e).to.have.length(1);
      return e;
    });
    expect(events[0]).to.include({ type: 'WarehouseCreated', version: 1 });
    expect(events[0]!.data).to.deep.equal({ code: 'BER-1', name: 'Berlin', region: 'eu-central', priority: 10, active: true });
  });

  it('rejects a duplicate code with ALREADY_EXISTS and records nothing', async () => {
    const err = await failure(c.createWarehouse({ code: 'BER-1', name: 'Other', region: 'x', priority: 1 }));
    expect(err.code).to.equal(status.ALREADY_EXISTS);
    expect(err.details).to.contain('BER-1');
    await drained(t.app);
    expect(await readStream(t.table, 'warehouse#BER-1')).to.have.length(1);
  });

  const bad: Array<[string, Record<string, unknown>, string]> = [
    ['empty code', { code: '' }, 'code'],
    ['lower-case code', { code: 'ber-2' }, 'code'],
    ['33-char code', { code: 'A'.repeat(33) }, 'code'],
    ['empty name', { code: 'X1', name: '' }, 'name'],
    ['blank name', { code: 'X1', name: '   ' }, 'name'],
    ['long name', { code: 'X1', name: 'n'.repeat(201) }, 'name'],
    ['empty region', { code: 'X1', region: '' }, 'region'],
    ['negative priority', { code: 'X1', priority: -1 }, 'priority'],
    ['huge priority', { code: 'X1', priority: 1_000_001 }, 'priority'],
  ];
  for (const [what, req, field] of bad) {
    it(`rejects ${what} with INVALID_ARGUMENT naming ${field}`, async () => {
      const err = await failure(c.createWarehouse({ code: 'BER-1', name: 'Berlin', region: 'eu', priority: 1, ...req }));
      expect(err.code).to.equal(status.INVALID_ARGUMENT);
      expect(err.details).to.match(new RegExp(`^${field}:`));
    });
  }

  it('GetWarehouse: NOT_FOUND for an unknown code, INVALID_ARGUMENT for a malformed one', async () => {
    expect((await failure(c.getWarehouse({ code: 'NOPE' }))).code).to.equal(status.NOT_FOUND);
    const err = await failure(c.getWarehouse({ code: 'bad code' }));
    expect(err.code).to.equal(status.INVALID_ARGUMENT);
    expect(err.details).to.match(/^code:/);
  });

  it('updates only the given fields, bumps the version and records WarehouseUpdated', async () => {
    const { warehouse } = await c.updateWarehouse({ code: 'BER-1', priority: 5, active: false });
    expect(warehouse).to.include({ name: 'Berlin', priority: 5, active: false });
    expect(warehouse!.version).to.equal(2n);
    expect(warehouse!.updateTime!.getTime()).to.be.at.least(warehouse!.createTime!.getTime());
    const events = await eventually(async () => {
      const e = await readStream(t.table, 'warehouse#BER-1');
      expect(e).to.have.length(2);
      return e;
    });
    expect(events[1]).to.include({ type: 'WarehouseUpdated', version: 2 });
    expect(events[1]!.data).to.deep.equal({ code: 'BER-1', changes: { priority: 5, active: false } });
  });

  it('UpdateWarehouse with a stale expected_version fails with ABORTED and changes nothing', async () => {
    const err = await failure(c.updateWarehouse({ code: 'BER-1', name: 'Renamed', expectedVersion: 1n }));
    expect(err.code).to.equal(status.ABORTED);
    expect(err.details).to.contain('version 2');
    const { warehouse } = await c.getWarehouse({ code: 'BER-1' });
    expect(warehouse).to.include({ name: 'Berlin' });
    expect(warehouse!.version).to.equal(2n);
    const ok = await c.updateWarehouse({ code: 'BER-1', name: 'Renamed', expectedVersion: 2n });
    expect(ok.warehouse!.version).to.equal(3n);
  });

  it('UpdateWarehouse rejects unknown codes, empty updates and bad values', async () => {
    expect((await failure(c.updateWarehouse({ code: 'NOPE', name: 'x' }))).code).to.equal(status.NOT_FOUND);
    const empty = await failure(c.updateWarehouse({ code: 'BER-1' }));
    expect(empty.code).to.equal(status.INVALID_ARGUMENT);
    const badRegion = await failure(c.updateWarehouse({ code: 'BER-1', region: '' }));
    expect(badRegion.code).to.equal(status.INVALID_ARGUMENT);
    expect(badRegion.details).to.match(/^region:/);
    const badVersion = await failure(c.updateWarehouse({ code: 'BER-1', name: 'x', expectedVersion: 0n }));
    expect(badVersion.details).to.match(/^expected_version:/);
    const { warehouse } = await c.getWarehouse({ code: 'BER-1' });
    expect(warehouse!.version).to.equal(3n);
  });

  it('lists warehouses in code order, page by page', async () => {
    for (const code of ['A1', 'C3', 'B2', 'D4']) await create({ code });
    const seen: string[] = [];
    let pageToken = '';
    let pages = 0;
    do {
      const page = await c.listWarehouses({ pageSize: 2, pageToken });
      expect(page.warehouses.length).to.be.at.most(2);
      seen.push(...page.warehouses.map((w) => w.code));
      pageToken = page.nextPageToken;
      pages++;
    } while (pageToken !== '');
    expect(seen).to.deep.equal(['A1', 'B2', 'BER-1', 'C3', 'D4']);
    expect(pages).to.equal(3);
    const all = await c.listWarehouses({ pageSize: 0, pageToken: '' });
    expect(all.warehouses).to.have.length(5);
    expect(all.nextPageToken).to.equal('');
  });

  it('ListWarehouses coerces a page size above the maximum down (AIP-158) and rejects a negative one or a bad token', async () => {
    const coerced = await c.listWarehouses({ pageSize: 1_000_000, pageToken: '' });
    expect(coerced.warehouses).to.have.length(5);
    expect(coerced.nextPageToken).to.equal('');
    const size = await failure(c.listWarehouses({ pageSize: -1, pageToken: '' }));
    expect(size.code).to.equal(status.INVALID_ARGUMENT);
    expect(size.details).to.match(/^page_size:/);
    const token = await failure(c.listWarehouses({ pageSize: 10, pageToken: 'garbage' }));
    expect(token.code).to.equal(status.INVALID_ARGUMENT);
    expect(token.details).to.match(/^page_token:/);
  });

  it('every event in the table belongs to a successful change', async () => {
    await drained(t.app);
    const events = await scanAll(t.table);
    // BER-1: created + 2 updates (+1 from the CAS success); A1..D4: created.
    expect(events.filter((e) => e.streamId === 'warehouse#BER-1').map((e) => e.version)).to.deep.equal([1, 2, 3]);
    expect(events).to.have.length(7);
  });
});
