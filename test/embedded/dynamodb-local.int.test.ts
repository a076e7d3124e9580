import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { expect } from 'chai';
import { EmbeddedDynamoLocal } from '../../src/embedded/dynamodb-local.js';
import { parseJavaVersion } from '../../src/embedded/java.js';
import { createDynamoClient } from '../../src/events/dynamo-appender.js';
import { testDynamoKind } from '../support/dynamo-backend.js';
import { quietLog } from '../support/stack.js';

describe('embedded DynamoDB Local (int)', function () {
  this.timeout(180_000);

  it('reads the major version from java -version', () => {
    expect(parseJavaVersion('openjdk version "17.0.15" 2025-04-15')).to.equal(17);
    expect(parseJavaVersion('java version "1.8.0_392"')).to.equal(8);
    expect(parseJavaVersion('openjdk version "21" 2023-09-19')).to.equal(21);
    expect(parseJavaVersion('bash: java: command not found')).to.equal(undefined);
  });

  it('will not share a data directory with a running one, and removes its pid file on stop', async function () {
    if ((await testDynamoKind()) !== 'dynamodb-local') this.skip(); // no Java 17+ here
    const dir = await mkdtemp(path.join(os.tmpdir(), 'inventory-ddb-local-'));
    const first = new EmbeddedDynamoLocal({ dataDir: dir, port: 0, log: quietLog });
    try {
      await first.start();
      const record = JSON.parse(await readFile(path.join(dir, 'dynamodb-local.pid'), 'utf8')) as { pid: number; owner: number };
      expect(record.owner).to.equal(process.pid);
      const second = new EmbeddedDynamoLocal({ dataDir: dir, port: 0, log: quietLog });
      const refused = await second.start().then(() => undefined, (err: Error) => err);
      expect(refused?.message).to.match(/is in use by DynamoDB Local \(pid \d+\) of a running process/);
      const client = createDynamoClient({ endpoint: first.endpoint, region: 'eu-west-1', table: '' });
      try {
        expect((await client.send(new ListTablesCommand({}))).TableNames).to.deep.equal([]); // the first still serves
      } finally {
        client.destroy();
      }
    } finally {
      await first.stop();
    }
    const left = await readFile(path.join(dir, 'dynamodb-local.pid'), 'utf8').catch(() => undefined);
    expect(left).to.equal(undefined);
    await rm(dir, { recursive: true, force: true });
  });
});
