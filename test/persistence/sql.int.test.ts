import { expect } from 'chai';
import type { MikroORM } from '@mikro-orm/postgresql';
import { openOrm } from '../../src/persistence/orm.js';
import { PREPARED, query } from '../../src/persistence/sql.js';
import { freshDatabase } from '../support/stack.js';

const PREPARED_NAMES = `select name from pg_prepared_statements where name like 'inv\\_%' order by name`;

/** src/persistence/sql.ts: the hand-written statements, inside and outside transactions, prepared or not. */
describe('hand-written SQL (int)', () => {
  let url: string;
  const orms: MikroORM[] = [];
  before(async () => {
    url = await freshDatabase();
  });
  after(async () => {
    for (const orm of orms) await orm.close(true);
  });

  async function orm(preparedStatements?: boolean): Promise<MikroORM> {
    // One connection: every statement of a test sees the same session.
    const o = await openOrm({ url, poolMin: 0, poolMax: 1, ...(preparedStatements === undefined ? {} : { preparedStatements }) });
    orms.push(o);
    return o;
  }

  const names = async (o: MikroORM, inTx: boolean) => {
    const em = o.em.fork();
    if (!inTx) return (await query<{ name: string }>(em, PREPARED_NAMES)).map((r) => r.name);
    return em.transactional(async (tx) => (await query<{ name: string }>(tx, PREPARED_NAMES)).map((r) => r.name));
  };

  it('binds ? as parameters in order, arrays as PostgreSQL arrays, \\? as a literal question mark, in and out of a transaction', async () => {
    const o = await orm(false);
    const text = `select ?::int + 1 as n, array_length(?::text[], 1) as len, ?::timestamptz as at, '\\?' as q, ? as s`;
    const params = [41, ['a', 'b "c"', 'd\\e'], new Date('2026-11-25T10:00:00Z'), "it's"];
    const expected = { n: 42, len: 3, q: '?', s: "it's" };
    const outside = await query<Record<string, unknown>>(o.em.fork(), text, params);
    const inside = await o.em.fork().transactional((tx) => query<Record<string, unknown>>(tx, text, params));
    for (const rows of [outside, inside]) {
      expect(rows).to.have.length(1);
      expect(rows[0]).to.include(expected);
      expect(new Date(String(rows[0]!.at)).toISOString()).to.equal('2026-11-25T10:00:00.000Z');
    }
    const arrays = await o.em.fork().transactional((tx) => query<{ a: string[] }>(tx, `select ?::text[] as a`, [['x', 'y "z"', 'w\\v']]));
    expect(arrays[0]!.a).to.deep.equal(['x', 'y "z"', 'w\\v']);
  });

  it('a statement inside a transaction is part of it: a rollback undoes it', async () => {
    const o = await orm(true);
    await query(o.em.fork(), `create table if not exists t_sql (id int primary key)`);
    await o.em
      .fork()
      .transactional(async (tx) => {
        await query(tx, `insert into t_sql values (?)`, [1], PREPARED);
        expect(await query(tx, `select id from t_sql`)).to.deep.equal([{ id: 1 }]);
        throw new Error('roll back');
      })
      .catch(() => undefined);
    expect(await query(o.em.fork(), `select id from t_sql`)).to.deep.equal([]);
  });

  it('keeps the SQLSTATE of a failing statement (the error classifier reads it), in and out of a transaction', async () => {
    const o = await orm(true);
    await query(o.em.fork(), `create table if not exists t_sql_err (id int primary key)`);
    await query(o.em.fork(), `insert into t_sql_err values (1)`);
    const outside = await query(o.em.fork(), `insert into t_sql_err values (?)`, [1], PREPARED).catch((e: { code?: string }) => e);
    const inside = await o.em
      .fork()
      .transactional((tx) => query(tx, `insert into t_sql_err values (?)`, [1], PREPARED))
      .catch((e: { code?: string }) => e);
    expect((outside as { code?: string }).code).to.equal('23505');
    expect((inside as { code?: string }).code).to.equal('23505');
  });

  it('refuses an undefined parameter instead of sending NULL', async () => {
    const o = await orm(false);
    const inside = await o.em
      .fork()
      .transactional((tx) => query(tx, `select ?::int as n`, [undefined]))
      .catch((e: Error) => e);
    expect((inside as Error).message).to.match(/undefined binding/);
    const outside = await query(o.em.fork(), `select ?::int as n`, [undefined]).catch((e: Error) => e);
    expect((outside as Error).message).to.match(/Undefined binding/);
  });

  it('PREPARED: a named statement per text, parsed once per connection, when the settings allow them (the default)', async () => {
    const o = await orm();
    const text = `select ?::int * 2 as n`;
    for (let i = 1; i <= 3; i++) {
      expect(await o.em.fork().transactional((tx) => query(tx, text, [i], PREPARED))).to.deep.equal([{ n: i * 2 }]);
      expect(await query(o.em.fork(), text, [i], PREPARED)).to.deep.equal([{ n: i * 2 }]);
    }
    // One name for the text, on the pool's one connection, whichever path prepared it first.
    const prepared = await names(o, true);
    expect(prepared).to.have.length(1);
    expect(prepared[0]).to.match(/^inv_[0-9a-f]{24}$/);
    expect(await names(o, false)).to.deep.equal(prepared);
    // A second text gets a second name; a statement without PREPARED gets none.
    await o.em.fork().transactional((tx) => query(tx, `select ?::int * 3 as n`, [1], PREPARED));
    await o.em.fork().transactional((tx) => query(tx, `select ?::int * 4 as n`, [1]));
    expect(await names(o, true)).to.have.length(2);
  });

  it('preparedStatements: false (DATABASE_PREPARED_STATEMENTS=false) sends every statement unnamed', async () => {
    const o = await orm(false);
    expect(await o.em.fork().transactional((tx) => query(tx, `select ?::int * 2 as n`, [5], PREPARED))).to.deep.equal([{ n: 10 }]);
    expect(await query(o.em.fork(), `select ?::int * 2 as n`, [5], PREPARED)).to.deep.equal([{ n: 10 }]);
    expect(await names(o, true)).to.deep.equal([]);
  });
});
