import { expect } from 'chai';
import { status, type ServiceError } from '@grpc/grpc-js';
import { StockCountRejectionReason as R, type ImportStockCountsResponse, type StockCount } from '../../src/gen/inventory/v1/stock_import.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { drained, expectClean, rebuild, sql, verify, rebuildIntoEmpty } from '../support/replay.js';
import { brokenInvariants } from '../support/stock.js';
import { count, importCounts } from '../support/stock-import.js';

const WAREHOUSES = 100;
const ITEMS = 1000;
const ROWS = WAREHOUSES * ITEMS;
const wh = (i: number) => `W${String(i).padStart(2, '0')}`;
const sku = (i: number) => `S${String(i).padStart(4, '0')}`;

/**
 * Row i (0-based) counts level (sku i/100, warehouse i%100). As in a real cycle count most
 * rows confirm the books (0 for a level never stocked) and every 50th finds stock, which
 * keeps the events (and so verify and rebuild) to 2% of the rows; the bench measures
 * imports where every row changes a level. Every 250th row is bad in one of five ways.
 */
function cycleCount(): StockCount[] {
  const rows: StockCount[] = [];
  for (let i = 0; i < ROWS; i++) {
    const s = sku(Math.floor(i / WAREHOUSES));
    const w = wh(i % WAREHOUSES);
    const good = count(s, w, i % 50 === 0 ? (i % 9) + 1 : 0);
    if (i % 250 !== 249) {
      rows.push(good);
      continue;
    }
    switch ((i / 250) % 5 | 0) {
      case 0:
        rows.push(count(`NOPE-${i}`, w, 1));
        break;
      case 1:
        rows.push(count(s, 'ZZ', 1));
        break;
      case 2:
        rows.push({ ...good, countedOnHand: -1n });
        break;
      case 3:
        rows.push(rows[i - 1]!); // a second count of the previous row's level
        break;
      default:
        rows.push(count(s, w, 3, 7)); // the level is at version 0
    }
  }
  return rows;
}

const BAD = ROWS / 250;
/** Levels that get an allocation before the count: each such row counts below what is allocated. */
const HELD = [
  [sku(1), wh(1)],
  [sku(2), wh(2)],
] as const;

function reasons(r: ImportStockCountsResponse): Record<number, number> {
  const by: Record<number, number> = {};
  for (const x of r.rejections) by[x.reason] = (by[x.reason] ?? 0) + 1;
  return by;
}

describe('ImportStockCounts: 100,000 rows with bad rows, a rerun, a run cut half-way (e2e)', function () {
  this.timeout(600_000);
  let t: TestApp;
  let first: ImportStockCountsResponse;
  const rows = cycleCount();

  before(async () => {
    t = await startTestApp({ RELAY_INTERVAL_MS: '1000' });
    const c = t.client;
    const codes = Array.from({ length: WAREHOUSES }, (_, i) => wh(i));
    const skus = Array.from({ length: ITEMS }, (_, i) => sku(i));
    const inParallel = async <T>(xs: readonly T[], f: (x: T) => Promise<unknown>) => {
      for (let i = 0; i < xs.length; i += 16) await Promise.all(xs.slice(i, i + 16).map(f));
    };
    await inParallel(codes, (code) => c.createWarehouse({ code, name: code, region: 'eu' }));
    await inParallel(skus, (s) => c.createItem({ sku: s, name: s }));
    for (const [s, w] of HELD) {
      await c.receiveStock({ sku: s, warehouseCode: w, quantity: 50n });
      await c.allocateStock({ allocationId: `hold-${s}`, lines: [{ sku: s, warehouseCode: w, quantity: 40n }] });
    }
  });
  after(() => t?.stop());

  it('applies the good rows, rejects each bad one by row number with its reason', async () => {
    first = await importCounts(t.raw, 'count-2026-12-01', rows);
    expect(first.rows).to.equal(BigInt(ROWS));
    expect(first.rejected).to.equal(BigInt(BAD + HELD.length));
    expect(first.applied + first.unchanged + first.rejected).to.equal(BigInt(ROWS));
    // Rows 1, 51, 101, ... (i % 50 === 0) find stock; bad rows are never at such an i.
    expect(first.applied).to.equal(BigInt(ROWS / 50));
    expect(first.alreadyDecided).to.equal(0n);
    expect(reasons(first)).to.deep.equal({
      [R.STOCK_COUNT_REJECTION_REASON_UNKNOWN_SKU]: BAD / 5,
      [R.STOCK_COUNT_REJECTION_REASON_UNKNOWN_WAREHOUSE]: BAD / 5,
      [R.STOCK_COUNT_REJECTION_REASON_INVALID_ROW]: BAD / 5,
      [R.STOCK_COUNT_REJECTION_REASON_DUPLICATE]: BAD / 5,
      [R.STOCK_COUNT_REJECTION_REASON_VERSION_CONFLICT]: BAD / 5,
      [R.STOCK_COUNT_REJECTION_REASON_BELOW_COMMITTED]: HELD.length,
    });
    const byRow = new Map(first.rejections.map((x) => [Number(x.row), x]));
    expect(byRow.get(250)).to.include({ sku: 'NOPE-249', reason: R.STOCK_COUNT_REJECTION_REASON_UNKNOWN_SKU });
    expect(byRow.get(750)!.message).to.match(/^counted_on_hand: /);
    expect(byRow.get(1000)!.message).to.equal(`sku "${sku(9)}" in warehouse "${wh(98)}" was already counted in row 999`);
    expect(byRow.get(1250)!.message).to.equal('expected_version: the level is at version 0, not 7');
    // Row 102 counts S0001 at W01 to 0 while 40 units are allocated there.
    expect(byRow.get(102)!.message).to.match(/40 allocated/);

    const [levels] = await sql<{ n: string; on_hand: string }>(t.databaseUrl, `select count(*) as n, sum(on_hand) as on_hand from stock_level where version > 0`);
    expect(Number(levels!.n)).to.equal(Number(first.applied) + HELD.length);
    const ledger = await sql<{ n: string }>(t.databaseUrl, `select count(*) as n from stock_movement where reason = 'cycle count'`);
    expect(Number(ledger[0]!.n)).to.equal(Number(first.applied));
    expect(await brokenInvariants(t.databaseUrl)).to.deep.equal([]);
  });

  it('a rerun of the same import applies nothing and answers the same', async () => {
    const [before] = await sql<{ n: string }>(t.databaseUrl, `select count(*) as n from event_outbox`);
    const again = await importCounts(t.raw, 'count-2026-12-01', rows, { perMessage: 1000 });
    expect({ ...again, alreadyDecided: 0n }).to.deep.equal(first);
    expect(again.alreadyDecided).to.equal(BigInt(ROWS));
    const [after] = await sql<{ n: string }>(t.databaseUrl, `select count(*) as n from event_outbox`);
    expect(after!.n).to.equal(before!.n);
  });

  it('a run cut half-way, then rerun in full, applies every row exactly once', async () => {
    // The next count of the first 200 items in every warehouse: one more unit in every 40th level.
    const next = rows.slice(0, 20_000).map((r, i) => (i % 250 === 249 || i % 40 !== 0 ? r : { ...r, countedOnHand: r.countedOnHand + 1n }));
    const cut = await importCounts(t.raw, 'count-2026-12-02', next, { cancelAfter: 9_000 }).then(
      () => undefined,
      (err: ServiceError) => err,
    );
    expect(cut?.code).to.equal(status.CANCELLED);
    const full = await importCounts(t.raw, 'count-2026-12-02', next);
    // The cut run committed some batches (the one it was applying when cut included): the rerun repeats those.
    expect(Number(full.alreadyDecided)).to.be.greaterThan(0).and.lessThan(20_000);
    expect(full.rows).to.equal(20_000n);
    // Every 40th row (never a bad one, never a held level) changes; the others confirm the first count.
    expect(full.applied).to.equal(500n);
    const [stored] = await sql<{ n: string }>(t.databaseUrl, `select count(*) as n from stock_import_row where import_id = 'count-2026-12-02'`);
    expect(stored!.n).to.equal('20000');
    const twice = await sql(
      t.databaseUrl,
      `select sku, warehouse_code from stock_movement where reference like 'import count-2026-12-02 %' group by sku, warehouse_code having count(*) > 1`,
    );
    expect(twice).to.deep.equal([]);
    const wrong = await sql(
      t.databaseUrl,
      `select s.sku, s.warehouse_code, s.on_hand from stock_level s
        where s.sku < 'S0200' and s.on_hand <> (with i(i) as (select substr(s.sku, 2)::int * 100 + substr(s.warehouse_code, 2)::int)
                select case when i % 50 = 0 then i % 9 + 1 else 0 end + case when i % 40 = 0 then 1 else 0 end from i)
          and not exists (select 1 from stock_import_row r where r.sku = s.sku and r.warehouse_code = s.warehouse_code and r.outcome = 'REJECTED')`,
    );
    expect(wrong).to.deep.equal([]);
    expect(await brokenInvariants(t.databaseUrl)).to.deep.equal([]);
  });

  it('verify passes once the relay has appended everything, and rebuild reproduces the levels and the ledger', async () => {
    await drained(t.app, 120_000);
    expectClean(await verify(t.databaseUrl, t.table));
    const levels = `select sku, warehouse_code, on_hand, allocated, version, updated_at from stock_level where version > 0 order by sku, warehouse_code`;
    const ledger = `select id, created_at, sku, warehouse_code, type, on_hand_delta, reason, reference, stock_version from stock_movement order by id`;
    const { url } = await rebuildIntoEmpty(t.table);
    expectClean(await verify(url, t.table));
    expect(await sql(url, levels)).to.deep.equal(await sql(t.databaseUrl, levels));
    expect(await sql(url, ledger)).to.deep.equal(await sql(t.databaseUrl, ledger));
  });
});
