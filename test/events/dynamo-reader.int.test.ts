import net from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { DynamoReader } from '../../src/events/dynamo-reader.js';
import { ConcurrencyGate } from '../../src/events/gate.js';
import { toServiceError } from '../../src/grpc/errors.js';
import { DomainError } from '../../src/inventory/errors.js';
import { quietLog } from '../support/stack.js';

describe('DynamoReader failures (int)', () => {
  let silent: net.Server;
  const sockets = new Set<net.Socket>();
  let port: number;
  before(async () => {
    // Accepts connections and never answers: a DynamoDB that times out.
    silent = net.createServer((s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    port = (silent.address() as net.AddressInfo).port;
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  const read = async (endpoint: string, gate?: ConcurrencyGate): Promise<unknown> => {
    const client = new DynamoDBClient({
      region: 'us-east-1',
      endpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
      requestHandler: { connectionTimeout: 300 },
    });
    try {
      const reader = new DynamoReader(client, 'events', 10, gate, 300);
      for await (const e of reader.read({ streamId: 'item#X', lowVersion: 1, highVersion: 10, direction: 'forward' })) void e;
      return undefined;
    } catch (err) {
      return err;
    } finally {
      client.destroy();
    }
  };

  it('a read timeout and a refused connection are UNAVAILABLE, never INTERNAL, and give the read slot back', async () => {
    const gate = new ConcurrencyGate(1, 0, 'full');
    const timedOut = await read(`http://127.0.0.1:${port}`, gate);
    expect(timedOut).to.be.instanceOf(DomainError);
    expect((timedOut as DomainError).code).to.equal('UNAVAILABLE');
    expect((timedOut as DomainError).message).to.contain('no answer within 300 ms');
    expect(toServiceError(timedOut, quietLog).code).to.equal(status.UNAVAILABLE);
    expect(gate.inUse).to.equal(0);

    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as net.AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const refused = await read(`http://127.0.0.1:${closedPort}`);
    expect(toServiceError(refused, quietLog).code).to.equal(status.UNAVAILABLE);
  });
});
