import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { DeleteItemCommand } from '@aws-sdk/client-dynamodb';
import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { testDynamoKind } from '../support/dynamo-backend.js';
import { NotEmptyError } from '../../src/events/replay/rebuild.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { testDynamoClient } from '../support/dynamo.js';
import { eventClient, Subscription } from '../support/events.js';
import { dynamoEndpoint } from '../support/stack.js';
import { drained, expectClean, rebuild, sql, verify, rebuildIntoEmpty } from '../support/replay.js';

const run = promisify(execFile);

describe('verify and rebuild (int)', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
    for (const code of ['WH1', 'WH2', 'WH3']) await t.client.createWarehouse({ code, name: code, region: 'eu', priority: 1 });
    await t.client.updateWarehouse({ code: 'WH1', priority: 2 });
    await t.client.updateWarehouse({ code: 'WH1', name: 'Renamed', active: false });
    for (const sku of ['SKU-1', 'SKU-2']) await t.client.createItem({ sku, name: sku, description: `the ${sku}` });
    await drained(t.app);
  });
  after(() => t.stop());

  it('verify passes when the event store and PostgreSQL agree', async () => {
    const r = await verify(t.databaseUrl, t.table);
    expectClean(r);
    expect(r.streams).to.equal(5);
    expect(r.events).to.equal(7);
    expect(r.lines.at(-1)).to.match(/^verify: OK/);
  });

  it('verify names a row changed behind the service and fails', async () => {
    await sql(t.databaseUrl, `update warehouse set priority = 99 where code = 'WH1'`);
    try {
      const r = await verify(t.databaseUrl, t.table);
      expect(r.differences).to.equal(1);
      expect(r.sample[0]).to.equal('warehouse#WH1: priority: event store 2, PostgreSQL 99');
      expect(r.lines.at(-1)).to.match(/^verify: FAILED: 1 differences/);
    } finally {
      await sql(t.databaseUrl, `update warehouse set priority = 2 where code = 'WH1'`);
    }
  });

  it('verify reports rows missing on either side', async () => {
    await sql(t.databaseUrl, `insert into item (sku, name, description, version, created_at, updated_at) values ('GHOST', 'g', '', 1, now(), now())`);
    await sql(t.databaseUrl, `delete from item where sku = 'SKU-2'`);
    const r = await verify(t.databaseUrl, t.table);
    expect(r.sample).to.have.members([
      'item#SKU-2: in the event store (version 1) but not in PostgreSQL',
      'item#GHOST: in PostgreSQL but the event store has no event of it',
    ]);
    await sql(t.databaseUrl, `delete from item where sku = 'GHOST'`);
  });

  it('rebuild refuses a database that is not empty', async () => {
    const err = await rebuild(t.databaseUrl, t.table).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(NotEmptyError);
  });

  it('rebuild reconstructs PostgreSQL into an empty database; verify passes and the service runs on it', async () => {
    // The original lost SKU-2 in the previous test; the event store still has it.
    const { url, r } = await rebuildIntoEmpty(t.table);
    expect(r.streams).to.equal(5);
    expectClean(await verify(url, t.table));
    const [wh1] = await sql<{ name: string; version: number; active: boolean }>(url, `select name, version, active from warehouse where code = 'WH1'`);
    expect(wh1).to.deep.equal({ name: 'Renamed', version: 3, active: false });

    const t2 = await startTestApp({}, { databaseUrl: url, table: t.table });
    const events = eventClient(t2.address);
    try {
      const { warehouse } = await t2.client.updateWarehouse({ code: 'WH1', priority: 5 });
      expect(warehouse!.version).to.equal(4n);
      expect((await t2.client.getItem({ sku: 'SKU-2' })).item!.description).to.equal('the SKU-2');
      await drained(t2.app);
      expectClean(await verify(url, t.table));
      // The old feed is gone: an old position is OUT_OF_RANGE, not silently nothing.
      const old = new Subscription(events, { start: { $case: 'afterPosition', value: 3n } });
      const err = await old.failure();
      expect(err.code).to.equal(status.OUT_OF_RANGE);
      expect(err.details).to.match(/oldest available position is \d+/);
      const fresh = new Subscription(events, { start: { $case: 'fromOldest', value: true } });
      await fresh.until((s) => s.events.length === 1);
      expect(fresh.events[0]).to.include({ streamId: 'warehouse#WH1', version: 4n });
      fresh.cancel();
    } finally {
      events.close();
      await t2.stop();
    }
  });

  it('verify names a stream with a missing event', async () => {
    const dynamo = testDynamoClient();
    try {
      await dynamo.send(new DeleteItemCommand({ TableName: t.table, Key: { streamId: { S: 'warehouse#WH1' }, version: { N: '2' } } }));
    } finally {
      dynamo.destroy();
    }
    const r = await verify(t.databaseUrl, t.table);
    expect(r.sample).to.include('warehouse#WH1: version 2 is missing (next stored: 3)');
  });

  it('the CLI exits 1 and prints the difference; provision says what the local DynamoDB lacks', async () => {
    const env = { ...process.env, DATABASE_URL: t.databaseUrl, DYNAMODB_ENDPOINT: dynamoEndpoint(), EVENTS_TABLE: t.table, LOG_LEVEL: 'silent' };
    const failed = await run('node', ['dist/src/admin/cli.js', 'verify'], { env }).then(
      () => undefined,
      (e: { code: number; stdout: string }) => e,
    );
    expect(failed?.code).to.equal(1);
    expect(failed?.stdout).to.contain('DIFF warehouse#WH1: version 2 is missing');
    const prov = await run('node', ['dist/src/admin/cli.js', 'provision'], { env });
    expect(prov.stdout).to.contain(`table: ${t.table} exists`);
    // DynamoDB Local has TTL settings (it never expires items); dynalite has none.
    if ((await testDynamoKind()) === 'dynalite') expect(prov.stdout).to.match(/ttl: not supported by this endpoint \(UnknownOperationException.*skipped/);
    else expect(prov.stdout).to.match(/ttl: (already )?enabled on expiresAt/);
    expect(prov.stdout).to.match(/pitr: not supported by this endpoint .*skipped/);
  });
});
