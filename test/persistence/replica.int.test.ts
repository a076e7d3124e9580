import { expect } from 'chai';
import type { MikroORM } from '@mikro-orm/postgresql';
import { Item } from '../../src/persistence/entities/item.entity.js';
import { openOrm } from '../../src/persistence/orm.js';
import { ON_REPLICA } from '../../src/persistence/reporting.js';
import { eventually } from '../support/dynamo.js';
import { query, startReplicaPair, type ReplicaPair } from '../support/replica.js';

/**
 * Against a real streaming standby (not a second copy of the primary): what reaches the
 * replica, and which queries it serves.
 */
describe('read replica (int)', function () {
  this.timeout(120_000);
  let pair: ReplicaPair;
  let orm: MikroORM;
  before(async () => {
    pair = await startReplicaPair();
    orm = await openOrm({ url: pair.primaryUrl, replicaUrls: [pair.replicaUrl], poolMin: 0, poolMax: 4, statementTimeoutMs: 4321 });
  });
  after(async () => {
    await orm?.close(true);
    await pair?.stop();
  });

  const inRecovery = async (type: 'read' | 'write') =>
    ((await orm.em.fork().getConnection(type).execute('select pg_is_in_recovery() as r')) as Array<{ r: boolean }>)[0]!.r;

  it('is a real standby: in recovery, read-only, fed by streaming replication', async () => {
    expect(await query(pair.replicaUrl, 'select pg_is_in_recovery() as r')).to.deep.equal([{ r: true }]);
    const err = await query(pair.replicaUrl, `create table t (x int)`).catch((e: Error) => e);
    expect((err as Error).message).to.match(/read-only transaction/);
    const senders = await query<{ state: string }>(pair.primaryUrl, 'select state from pg_stat_replication');
    expect(senders.map((s) => s.state)).to.deep.equal(['streaming']);
  });

  it('rows written on the primary appear on the replica', async () => {
    const em = orm.em.fork();
    await em.persistAndFlush(new Item('REPL-1', 'Replicated', '', new Date()));
    await eventually(async () => {
      const found = await orm.em.fork().findOne(Item, { sku: 'REPL-1' }, ON_REPLICA);
      expect(found?.name).to.equal('Replicated');
    }, 10_000);
  });

  it('reporting queries are served by the replica; everything else by the primary', async () => {
    expect(await inRecovery('read')).to.equal(true);
    expect(await inRecovery('write')).to.equal(false);
    // The default connection is the primary (preferReadReplicas: false).
    expect(((await orm.em.fork().getConnection().execute('select pg_is_in_recovery() as r')) as Array<{ r: boolean }>)[0]!.r).to.equal(false);

    // Make the replica lag: a reporting query then cannot see a fresh row; a plain read can.
    await pair.pauseReplay();
    try {
      await orm.em.fork().persistAndFlush(new Item('REPL-2', 'Lagging', '', new Date()));
      expect(await orm.em.fork().findOne(Item, { sku: 'REPL-2' })).to.not.equal(null);
      expect(await orm.em.fork().findOne(Item, { sku: 'REPL-2' }, ON_REPLICA)).to.equal(null);
      expect(await orm.em.fork().count(Item, {}, ON_REPLICA)).to.equal(1);
    } finally {
      await pair.resumeReplay();
    }
    await eventually(async () => expect(await orm.em.fork().count(Item, {}, ON_REPLICA)).to.equal(2), 10_000);
  });

  it('replica connections get the same pool settings and statement timeout', async () => {
    const rows = (await orm.em.fork().getConnection('read').execute('show statement_timeout')) as Array<{ statement_timeout: string }>;
    expect(rows).to.deep.equal([{ statement_timeout: '4321ms' }]);
  });
});
