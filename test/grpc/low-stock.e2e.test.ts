import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { failure, startTestApp, type TestApp } from '../support/app.js';
import { seed, sql } from '../support/stock.js';

describe('ListLowStock (e2e)', () => {
  let t: TestApp;
  const c = () => t.client;
  const key = (l: { sku: string; warehouseCode: string; available: bigint }) => `${l.available}:${l.sku}@${l.warehouseCode}`;

  before(async () => {
    t = await startTestApp();
    await seed(t.client, { BER: 1, HAM: 2, MUC: 3 }, ['A', 'B', 'C', 'D', 'NEVER']);
    const receipts: Array<[string, string, bigint]> = [
      ['A', 'BER', 5n],
      ['A', 'HAM', 1n],
      ['B', 'BER', 3n],
      ['B', 'HAM', 20n],
      ['C', 'BER', 1n],
      ['C', 'MUC', 2n],
      ['D', 'HAM', 3n],
    ];
    for (const [sku, warehouseCode, quantity] of receipts) await t.client.receiveStock({ sku, warehouseCode, quantity });
    // Allocated units are not available: A@BER has 5 on hand, 4 allocated.
    await t.client.allocateStock({ allocationId: 'O-1', lines: [{ sku: 'A', warehouseCode: 'BER', quantity: 4n }] });
    // Sold out: D@HAM has 0 available, and stays a level that had stock.
    await t.client.adjustStock({ sku: 'D', warehouseCode: 'HAM', change: { $case: 'newOnHand', value: 0n }, reason: 'count' });
    // A level row that never had stock (version 0) is not listed.
    await t.client.getStockLevel({ sku: 'NEVER', warehouseCode: 'BER' });
  });
  after(() => t.stop());

  it('lists levels at or below the threshold, lowest available first, then by sku and warehouse', async () => {
    const { levels, nextPageToken } = await c().listLowStock({ threshold: 3n });
    expect(levels.map(key)).to.deep.equal(['0:D@HAM', '1:A@BER', '1:A@HAM', '1:C@BER', '2:C@MUC', '3:B@BER']);
    expect(nextPageToken).to.equal('');
    expect(levels[1]).to.include({ onHand: 5n, allocated: 4n, available: 1n, version: 2n });
    expect((await c().listLowStock({ threshold: 0n })).levels.map(key)).to.deep.equal(['0:D@HAM']);
    expect((await c().listLowStock({ threshold: 1000n })).levels).to.have.length(7);
  });

  it('pages with keyset tokens and ends with an empty token', async () => {
    const seen: string[] = [];
    let pageToken = '';
    let pages = 0;
    do {
      const page = await c().listLowStock({ threshold: 100n, pageSize: 2, pageToken });
      seen.push(...page.levels.map(key));
      pageToken = page.nextPageToken;
      pages++;
    } while (pageToken !== '');
    expect(pages).to.equal(4);
    expect(seen).to.deep.equal(['0:D@HAM', '1:A@BER', '1:A@HAM', '1:C@BER', '2:C@MUC', '3:B@BER', '20:B@HAM']);
  });

  it('filters by warehouse', async () => {
    const { levels } = await c().listLowStock({ threshold: 10n, warehouseCode: 'HAM' });
    expect(levels.map(key)).to.deep.equal(['0:D@HAM', '1:A@HAM']);
    expect((await c().listLowStock({ threshold: 10n, warehouseCode: 'MUC' })).levels.map(key)).to.deep.equal(['2:C@MUC']);
  });

  it('rejects bad input, naming the field', async () => {
    const cases: Array<[() => Promise<unknown>, status, RegExp]> = [
      [() => c().listLowStock({ threshold: -1n }), status.INVALID_ARGUMENT, /^threshold:/],
      [() => c().listLowStock({ threshold: 1n, warehouseCode: 'bad code' }), status.INVALID_ARGUMENT, /^warehouse_code:/],
      [() => c().listLowStock({ threshold: 1n, warehouseCode: 'NOPE' }), status.NOT_FOUND, /^warehouse_code: warehouse "NOPE" not found/],
      [() => c().listLowStock({ threshold: 1n, pageSize: -1 }), status.INVALID_ARGUMENT, /^page_size:/],
      [() => c().listLowStock({ threshold: 1n, pageToken: 'garbage' }), status.INVALID_ARGUMENT, /^page_token:/],
    ];
    for (const [call, code, message] of cases) {
      const err = await failure(call());
      expect(err.code, err.details).to.equal(code);
      expect(err.details).to.match(message);
    }
    // A token is bound to its filter.
    const { nextPageToken } = await c().listLowStock({ threshold: 100n, pageSize: 1 });
    const reused = await failure(c().listLowStock({ threshold: 50n, pageSize: 1, pageToken: nextPageToken }));
    expect(reused.code).to.equal(status.INVALID_ARGUMENT);
    expect(reused.details).to.match(/^page_token:/);
  });

  it('runs along stock_level_available_idx', async () => {
    // Enough rows that a sequential scan is not the obvious choice.
    await sql(
      t.databaseUrl,
      `insert into item (sku, name, description, version, created_at, updated_at)
       select 'BULK-' || g, 'bulk', '', 1, now(), now() from generate_series(1, 2000) g`,
    );
    await sql(
      t.databaseUrl,
      `insert into stock_level (sku, warehouse_code, on_hand, allocated, version, created_at, updated_at)
       select i.sku, 'MUC', 1000, 0, 1, now(), now() from item i where i.sku like 'BULK-%'`,
    );
    await sql(t.databaseUrl, 'analyze stock_level');
    const plan = await sql<{ 'QUERY PLAN': string }>(
      t.databaseUrl,
      `explain select * from stock_level s where s.version > 0 and (s.on_hand - s.allocated - s.damaged - s.quality_control - s.safety_stock) <= 3
        order by (s.on_hand - s.allocated - s.damaged - s.quality_control - s.safety_stock), s.sku, s.warehouse_code limit 101`,
    );
    expect(plan.map((r) => r['QUERY PLAN']).join('\n')).to.match(/stock_level_available_idx/);
  });
});
