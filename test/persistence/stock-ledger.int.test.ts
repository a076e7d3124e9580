import { expect } from 'chai';
import type { MikroORM } from '@mikro-orm/postgresql';
import { movementPageQuery } from '../../src/persistence/repositories/stock-movement.repository.js';
import { openOrm } from '../../src/persistence/orm.js';
import { StockMovementPartitions } from '../../src/persistence/partitions.js';
import { freshDatabase, quietLog } from '../support/stack.js';
import { sql } from '../support/stock.js';

/** Turns knex-style `?` placeholders into $1.. for EXPLAIN through pg. */
const numbered = (text: string): string => {
  let i = 0;
  return text.replace(/\?/g, () => `$${++i}`);
};

describe('stock schema and partitioned ledger (int)', () => {
  let url: string;
  let orm: MikroORM;
  let now = new Date('2026-11-25T12:00:00Z');
  before(async () => {
    url = await freshDatabase();
    orm = await openOrm({ url, poolMin: 0, poolMax: 4 });
  });
  after(() => orm.close());

  const partitions = () => new StockMovementPartitions(orm, quietLog, { monthsAhead: 3, intervalMs: 60_000, clock: () => now });
  const partitionNames = async () =>
    (await sql<{ name: string }>(url, `select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid where i.inhparent = 'stock_movement'::regclass order by 1`)).map(
      (r) => r.name,
    );

  it('creates the previous, current and next months idempotently, and more as time passes', async () => {
    await partitions().ensure();
    expect(await partitionNames()).to.deep.equal(['stock_movement_p202610', 'stock_movement_p202611', 'stock_movement_p202612', 'stock_movement_p202701', 'stock_movement_p202702']);
    // Two instances at once, then again: nothing breaks, nothing is duplicated.
    await Promise.all([partitions().ensure(), partitions().ensure()]);
    expect(await partitions().ensure()).to.deep.equal([]);
    now = new Date('2027-01-10T00:00:00Z');
    expect(await partitions().ensure()).to.deep.equal(['stock_movement_p202703', 'stock_movement_p202704']);
    now = new Date('2026-11-25T12:00:00Z');
  });

  it('the entities agree with the migrations: MikroORM sees no schema difference (partitions included)', async () => {
    const diff = await orm.getSchemaGenerator().getUpdateSchemaSQL({ wrap: false });
    expect(diff.trim()).to.equal('');
  });

  it('routes rows to their month and prunes partitions for (sku, warehouse, time range) lookups', async () => {
    await sql(
      url,
      `insert into stock_movement (created_at, sku, warehouse_code, type, on_hand_delta, allocated_delta, stock_version)
       select t, 'S' || (g % 10), 'W' || (g % 3), 'RECEIPT', 1, 0, g
         from generate_series(1, 3000) g, lateral (select timestamptz '2026-10-01' + (g % 120) * interval '1 day' as t) x`,
    );
    const perPartition = await sql<{ name: string; n: string }>(url, `select tableoid::regclass::text as name, count(*) as n from stock_movement group by 1 order by 1`);
    expect(perPartition.map((r) => r.name)).to.deep.equal(['stock_movement_p202610', 'stock_movement_p202611', 'stock_movement_p202612', 'stock_movement_p202701']);
    await sql(url, 'analyze stock_movement');

    const q = movementPageQuery(
      { sku: 'S1', warehouseCode: 'W1', startTime: new Date('2026-11-01T00:00:00Z'), endTime: new Date('2026-12-01T00:00:00Z') },
      undefined,
      100,
    );
    const plan = JSON.stringify(await sql(url, `explain (format json) ${numbered(q.text)}`, q.params));
    expect(plan).to.contain('stock_movement_p202611');
    for (const other of ['p202610', 'p202612', 'p202701', 'p202702']) expect(plan).not.to.contain(`stock_movement_${other}`);

    // The next page's cursor is a bound on the partition key as well.
    const page2 = movementPageQuery({ sku: 'S1', warehouseCode: 'W1', startTime: undefined, endTime: undefined }, { createTime: new Date('2026-10-15T00:00:00Z'), id: 5 }, 100);
    const plan2 = JSON.stringify(await sql(url, `explain (format json) ${numbered(page2.text)}`, page2.params));
    expect(plan2).to.contain('stock_movement_p202610');
    for (const other of ['p202611', 'p202612', 'p202701']) expect(plan2).not.to.contain(`stock_movement_${other}`);

    const rows = await sql(url, numbered(q.text), q.params);
    expect(rows.length).to.be.greaterThan(0);
    await sql(url, 'delete from stock_movement');
  });

  it('refuses a row outside every partition rather than losing it', async () => {
    let error: Error | undefined;
    try {
      await sql(url, `insert into stock_movement (created_at, sku, warehouse_code, type, on_hand_delta, allocated_delta, stock_version) values ('2030-01-01', 'S', 'W', 'RECEIPT', 1, 0, 1)`);
    } catch (err) {
      error = err as Error;
    }
    expect(error?.message).to.match(/no partition/);
  });

  it('the database itself refuses an oversold or negative stock level', async () => {
    await sql(url, `insert into warehouse (code, name, region, priority, created_at, updated_at) values ('W', 'w', 'r', 1, now(), now())`);
    await sql(url, `insert into item (sku, name, created_at, updated_at) values ('S', 's', now(), now())`);
    await sql(url, `insert into stock_level (sku, warehouse_code, on_hand, allocated, created_at) values ('S', 'W', 5, 5, now())`);
    const attempts: Array<[string, RegExp]> = [
      [`update stock_level set allocated = 6`, /stock_level_allocated_le_on_hand_check/],
      [`update stock_level set on_hand = -1, allocated = 0`, /stock_level_(on_hand|allocated_le_on_hand)_check/],
      [`update stock_level set allocated = -1`, /stock_level_allocated_check/],
      [`insert into stock_level (sku, warehouse_code, created_at) values ('NOPE', 'W', now())`, /stock_level_sku_foreign/],
    ];
    for (const [statement, constraint] of attempts) {
      let error: Error | undefined;
      try {
        await sql(url, statement);
      } catch (err) {
        error = err as Error;
      }
      expect(error?.message, statement).to.match(constraint);
    }
  });
});
