import { expect } from 'chai';
import type { MikroORM } from '@mikro-orm/postgresql';
import { openOrm } from '../../src/persistence/orm.js';
import { startTestApp } from '../support/app.js';
import { freshDatabase } from '../support/stack.js';
import { startBlackhole } from '../support/tcp-proxy.js';

/** The pool settings of src/config.ts reach the connections, and each does its job. */
describe('connection pool and timeouts (int)', () => {
  let url: string;
  const orms: MikroORM[] = [];
  before(async () => {
    url = await freshDatabase();
  });
  after(async () => {
    for (const orm of orms) await orm.close(true);
  });

  async function orm(settings: { poolMax?: number; connectTimeoutMs?: number; statementTimeoutMs?: number; url?: string }) {
    const o = await openOrm({ url, poolMin: 0, ...settings });
    orms.push(o);
    return o;
  }

  const errorOf = (p: Promise<unknown>) =>
    p.then(
      () => {
        throw new Error('expected a failure');
      },
      (err: Error & { code?: string }) => err,
    );

  it('DATABASE_STATEMENT_TIMEOUT_MS: a statement running longer is cancelled', async () => {
    const o = await orm({ statementTimeoutMs: 300 });
    const conn = o.em.fork().getConnection();
    expect(await conn.execute('show statement_timeout')).to.deep.equal([{ statement_timeout: '300ms' }]);
    const err = await errorOf(conn.execute('select pg_sleep(5)'));
    expect(err.message).to.match(/statement timeout/);
    expect(err.code).to.equal('57014'); // query_canceled
    // The connection is still usable afterwards.
    expect(await conn.execute('select 1 as one')).to.deep.equal([{ one: 1 }]);
  });

  it('DATABASE_POOL_MAX: never more connections than the pool size, however many queries wait', async () => {
    const o = await orm({ poolMax: 3 });
    const conn = o.em.fork().getConnection();
    const rows = await Promise.all(
      Array.from({ length: 12 }, () => conn.execute('select pg_backend_pid() as pid, pg_sleep(0.05)') as Promise<Array<{ pid: number }>>),
    );
    const pids = new Set(rows.map((r) => r[0]!.pid));
    expect(pids.size).to.be.within(1, 3);
  });

  it('DATABASE_CONNECT_TIMEOUT_MS also bounds the wait for a free pooled connection', async () => {
    const o = await orm({ poolMax: 1, connectTimeoutMs: 300 });
    let release!: () => void;
    let acquired!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const inside = new Promise<void>((r) => (acquired = r));
    const holding = o.em.fork().transactional(async (em) => {
      await em.getConnection().execute('select 1', [], 'all', em.getTransactionContext());
      acquired();
      await held;
    });
    await inside; // the only connection is now taken
    try {
      const started = Date.now();
      const err = await errorOf(o.em.fork().getConnection().execute('select 1'));
      expect(err.message).to.match(/Timeout acquiring a connection/);
      expect(Date.now() - started).to.be.below(10_000); // the 300 ms bound, not the 10 s default
    } finally {
      release();
      await holding;
    }
  });

  it('DATABASE_CONNECT_TIMEOUT_MS: a server that never answers fails the connection', async () => {
    const blackhole = await startBlackhole();
    try {
      const dead = new URL(url);
      dead.port = String(blackhole.port);
      const started = Date.now();
      const err = await errorOf(
        (async () => {
          const o = await orm({ url: dead.toString(), connectTimeoutMs: 300 });
          await o.em.fork().getConnection().execute('select 1');
        })(),
      );
      expect(err.message).to.match(/timeout|Timeout/);
      expect(Date.now() - started).to.be.below(10_000);
    } finally {
      await blackhole.close();
    }
  });

  it('the service passes its configuration to the pool', async () => {
    const t = await startTestApp({ DATABASE_STATEMENT_TIMEOUT_MS: '1234', DATABASE_POOL_MAX: '4' });
    try {
      const conn = t.app.orm.em.fork().getConnection();
      expect(await conn.execute('show statement_timeout')).to.deep.equal([{ statement_timeout: '1234ms' }]);
      expect(t.app.orm.config.get('pool')).to.include({ max: 4 });
    } finally {
      await t.stop();
    }
  });
});
