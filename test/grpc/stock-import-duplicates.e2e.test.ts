import { expect } from 'chai';
import { StockCountRejectionReason as R, type ImportStockCountsResponse } from '../../src/gen/inventory/v1/stock_import.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { sql } from '../support/replay.js';
import { count, importCounts } from '../support/stock-import.js';

/** The rejections of an answer as `row reason message`, in row order. */
const rejections = (r: ImportStockCountsResponse) =>
  r.rejections.map((x) => `${x.row} ${R[x.reason].replace('STOCK_COUNT_REJECTION_REASON_', '')} ${x.message}`);

/**
 * A second count of one level is rejected wherever the first one is: in an earlier batch of
 * the same run, or recorded by an earlier run (in an earlier batch or in the same batch).
 * Batches of two rows put almost every pair of rows in different transactions.
 */
describe('ImportStockCounts: duplicates across batches and runs (e2e)', function () {
  this.timeout(120_000);
  let t: TestApp;

  before(async () => {
    t = await startTestApp({ STOCK_IMPORT_BATCH_ROWS: '2' });
    await t.client.createWarehouse({ code: 'W1', name: 'One', region: 'eu' });
    for (const s of ['A', 'B', 'C', 'D']) await t.client.createItem({ sku: s, name: s });
  });
  after(() => t?.stop());

  it('rejects a level counted in an earlier batch, and again on a rerun that sends more rows', async () => {
    const rows = [count('A', 'W1', 5), count('B', 'W1', 5), count('C', 'W1', 5), count('A', 'W1', 6), count('B', 'W1', 7), count('D', 'W1', 1)];
    const first = await importCounts(t.raw, 'dups', rows, { perMessage: 1 });
    expect({ applied: first.applied, rejected: first.rejected }).to.deep.equal({ applied: 4n, rejected: 2n });
    expect(rejections(first)).to.deep.equal([
      '4 DUPLICATE sku "A" in warehouse "W1" was already counted in row 1',
      '5 DUPLICATE sku "B" in warehouse "W1" was already counted in row 2',
    ]);
    // The rerun learns the levels of rows 1-6 from what the first run recorded.
    const again = await importCounts(t.raw, 'dups', [...rows, count('C', 'W1', 9), count('D', 'W1', 2)], { perMessage: 3 });
    expect({ rows: again.rows, applied: again.applied, rejected: again.rejected, alreadyDecided: again.alreadyDecided }).to.deep.equal({
      rows: 8n,
      applied: 4n,
      rejected: 4n,
      alreadyDecided: 6n,
    });
    expect(rejections(again).slice(2)).to.deep.equal([
      '7 DUPLICATE sku "C" in warehouse "W1" was already counted in row 3',
      '8 DUPLICATE sku "D" in warehouse "W1" was already counted in row 6',
    ]);
    const levels = await sql<{ sku: string; on_hand: string }>(t.databaseUrl, `select sku, on_hand from stock_level where warehouse_code = 'W1' order by sku`);
    expect(levels.map((l) => `${l.sku}=${l.on_hand}`)).to.deep.equal(['A=5', 'B=5', 'C=5', 'D=1']);
  });

  it('rejects a fresh row that repeats a row an earlier run recorded in the same batch', async () => {
    // Batches [1, 2], [3]; the rerun's second batch is [3 (recorded), 4 (fresh)].
    await importCounts(t.raw, 'dups-2', [count('A', 'W1', 10), count('B', 'W1', 10), count('C', 'W1', 10)]);
    const again = await importCounts(t.raw, 'dups-2', [count('A', 'W1', 10), count('B', 'W1', 10), count('C', 'W1', 10), count('C', 'W1', 11)]);
    expect(again.alreadyDecided).to.equal(3n);
    expect(rejections(again)).to.deep.equal(['4 DUPLICATE sku "C" in warehouse "W1" was already counted in row 3']);
  });

  it('counts the level an earlier run recorded under a row number, not the different row a rerun sends there', async () => {
    await importCounts(t.raw, 'dups-3', [count('A', 'W1', 20), count('B', 'W1', 20)]);
    const again = await importCounts(t.raw, 'dups-3', [count('D', 'W1', 20), count('B', 'W1', 20), count('A', 'W1', 21), count('D', 'W1', 22)]);
    expect(rejections(again).map((r) => r.split(' ').slice(0, 2).join(' '))).to.deep.equal(['1 CHANGED_ON_RERUN', '3 DUPLICATE']);
    expect(rejections(again)[1]).to.equal('3 DUPLICATE sku "A" in warehouse "W1" was already counted in row 1');
    // Row 1 of the rerun (D) was never recorded, so row 4 is D's first count (row 2 repeats the first run's APPLIED).
    expect(again.applied).to.equal(2n);
    const [d] = await sql<{ on_hand: string }>(t.databaseUrl, `select on_hand from stock_level where sku = 'D' and warehouse_code = 'W1'`);
    expect(d!.on_hand).to.equal('22');
  });
});
