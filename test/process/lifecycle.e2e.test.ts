import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { credentials, status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { InventoryServiceClient, type InventoryServiceServer } from '../../src/gen/inventory/v1/inventory_service.js';
import { createDynamoClient, fromItem } from '../../src/events/dynamo-appender.js';
import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { failure, promiseClient } from '../support/app.js';
import { eventually } from '../support/dynamo.js';
import { testDynamoKind } from '../support/dynamo-backend.js';
import { freePort, spawnService, waitServing, type ServiceProcess } from '../support/process.js';

/**
 * What `make run` does, end to end: the real binary with no DATABASE_URL and no
 * DYNAMODB_ENDPOINT starts embedded PostgreSQL and DynamoDB under DATA_DIR (DynamoDB Local
 * where Java 17+ exists, else dynalite, as EMBEDDED_DYNAMODB=auto says).
 */
describe('service process with embedded databases (e2e)', function () {
  this.timeout(240_000);
  let dataDir: string;
  let env: Record<string, string>;
  let address: string;
  let running: ServiceProcess | undefined;

  const pgPid = (): number | undefined => {
    const file = path.join(dataDir, 'postgres', 'postmaster.pid');
    return existsSync(file) ? Number(readFileSync(file, 'utf8').split('\n')[0]) : undefined;
  };
  /** The JVM of an embedded DynamoDB Local (it outlives a SIGKILLed service like postgres). */
  const dynamoLocalPid = (): number | undefined => {
    const file = path.join(dataDir, 'dynamodb-local', 'dynamodb-local.pid');
    return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { pid: number }).pid : undefined;
  };
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const start = async () => {
    running = spawnService(env);
    await waitServing(address, 120_000, running.exited).catch((err: Error) => {
      // Do not leave a slow starter running behind the next test (it holds DATA_DIR).
      running?.child.kill('SIGKILL');
      throw new Error(`${err.message}\n${running?.output()}`);
    });
    const raw = new InventoryServiceClient(address, credentials.createInsecure());
    return { raw, c: promiseClient<InventoryServiceServer>(raw) };
  };
  const events = async (streamId: string) => {
    const client = createDynamoClient({ endpoint: `http://127.0.0.1:${env.EMBEDDED_DYNAMODB_PORT}`, region: 'us-east-1', table: '' });
    try {
      const out = await client.send(
        new QueryCommand({
          TableName: 'inventory-events',
          KeyConditionExpression: 'streamId = :s',
          ExpressionAttributeValues: { ':s': { S: streamId } },
        }),
      );
      return (out.Items ?? []).map(fromItem);
    } finally {
      client.destroy();
    }
  };

  before(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'inventory-run-'));
    await chmod(dataDir, 0o755);
    const grpcPort = await freePort();
    address = `127.0.0.1:${grpcPort}`;
    env = {
      DATA_DIR: dataDir,
      DATABASE_URL: '',
      DYNAMODB_ENDPOINT: '',
      GRPC_PORT: String(grpcPort),
      EMBEDDED_POSTGRES_PORT: String(await freePort()),
      EMBEDDED_DYNAMODB_PORT: String(await freePort()),
    };
  });

  after(async () => {
    running?.child.kill('SIGKILL');
    for (const pid of [pgPid(), dynamoLocalPid()]) if (pid !== undefined && alive(pid)) process.kill(pid, 'SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  });

  it('serves on embedded databases, logs one JSON line per call, and exits 0 on SIGTERM after stopping postgres', async () => {
    const { raw, c } = await start();
    await c.createWarehouse({ code: 'BER-1', name: 'Berlin', region: 'eu', priority: 1 });
    await c.createItem({ sku: 'SKU-1', name: 'Mug' });
    await eventually(async () => expect(await events('item#SKU-1')).to.have.length(1), 10_000);
    raw.close();
    const pid = pgPid();
    expect(pid).to.be.a('number');
    const jvm = dynamoLocalPid();
    if ((await testDynamoKind()) === 'dynamodb-local') expect(jvm, 'DynamoDB Local pid file').to.be.a('number');
    running!.child.kill('SIGTERM');
    const exit = await running!.exited;
    expect(exit.code, running!.output()).to.equal(0);
    expect(alive(pid!), 'postgres stopped').to.equal(false);
    if (jvm !== undefined) expect(alive(jvm), 'DynamoDB Local stopped').to.equal(false);
    expect(dynamoLocalPid(), 'pid file removed').to.equal(undefined);
    const lines = running!.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    const call = lines.find((l) => l.method === 'CreateItem');
    expect(call).to.include({ status: 'OK', msg: 'call' });
    expect(call!.durationMs).to.be.a('number');
    expect(lines.some((l) => l.msg === 'inventory service stopped')).to.equal(true);
  });

  it('keeps data and events across a restart', async () => {
    const { raw, c } = await start();
    try {
      const { item } = await c.getItem({ sku: 'SKU-1' });
      expect(item).to.include({ sku: 'SKU-1', name: 'Mug' });
      expect((await c.getWarehouse({ code: 'BER-1' })).warehouse).to.include({ name: 'Berlin' });
      expect(await events('warehouse#BER-1')).to.have.length(1);
      expect((await failure(c.createItem({ sku: 'SKU-1', name: 'again' }))).code).to.equal(status.ALREADY_EXISTS);
      await c.updateWarehouse({ code: 'BER-1', priority: 2 });
    } finally {
      raw.close();
    }
  });

  it('after a SIGKILL leaves postgres running, the next start stops the stale server and serves', async () => {
    const pid = pgPid()!;
    const local = (await testDynamoKind()) === 'dynamodb-local';
    const jvm = dynamoLocalPid();
    if (local) expect(jvm, 'DynamoDB Local pid file').to.be.a('number');
    running!.child.kill('SIGKILL');
    await running!.exited;
    expect(alive(pid), 'postgres outlives a SIGKILLed service').to.equal(true);
    if (local) expect(alive(jvm!), 'DynamoDB Local outlives a SIGKILLed service').to.equal(true);
    const { raw, c } = await start();
    try {
      expect(alive(pid), 'the stale postgres was stopped').to.equal(false);
      if (local) {
        expect(alive(jvm!), 'the stale DynamoDB Local was stopped').to.equal(false);
        expect(running!.output()).to.contain('stopping a stale embedded DynamoDB Local');
      }
      expect((await c.getWarehouse({ code: 'BER-1' })).warehouse!.version).to.equal(2n);
      // The event of the last write before the kill is in DynamoDB (now or via the relay).
      await eventually(async () => expect(await events('warehouse#BER-1')).to.have.length(2), 10_000);
      expect(running!.output()).to.contain('stopping a stale embedded postgres');
    } finally {
      raw.close();
    }
    running!.child.kill('SIGINT');
    expect((await running!.exited).code).to.equal(0);
  });

  it('refuses to start with a bad setting, naming it', async () => {
    const bad = spawnService({ ...env, GRPC_PORT: 'seventy', RELAY_INTERVAL_MS: '-5' });
    const exit = await bad.exited;
    expect(exit.code).to.equal(2);
    expect(bad.output()).to.contain('GRPC_PORT="seventy"');
    expect(bad.output()).to.contain('RELAY_INTERVAL_MS="-5"');
  });
});
