import { Server, ServerCredentials, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { expect } from 'chai';
import { Code, createInventoryClient, InventoryError, ServingStatus, type InventoryClient } from '../../clients/src/index.js';
import { serverStream } from '../../src/grpc/call.js';
import { HealthService, type HealthCheckRequest, type HealthCheckResponse } from '../../src/gen/grpc/health/v1/health.js';
import { DomainError } from '../../src/inventory/errors.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { quietLog } from '../support/stack.js';

/**
 * The edge's serverStream() wrapper, seen through the client package: a domain error thrown
 * mid-stream reaches the caller as a status with its structured details, and a caller
 * leaving the loop stops the server's generator. Health/Watch is only the vehicle.
 */
describe('server streams through the edge wrapper (e2e)', () => {
  let t: TestApp;
  let server: Server;
  let client: InventoryClient;
  let generatorFinished = 0;

  before(async () => {
    t = await startTestApp();
    server = new Server();
    const watch = serverStream<HealthCheckRequest, HealthCheckResponse>({ orm: t.app.orm, log: quietLog }, 'Watch', async function* (req, s) {
      try {
        yield { status: ServingStatus.SERVING };
        if (req.service === 'fail') {
          throw new DomainError('FAILED_PRECONDITION', 'not enough stock of SKU-1: requested 5, available 2', { sku: 'SKU-1', requested: 5, available: 2 });
        }
        while (!s.signal.aborted) {
          yield { status: ServingStatus.SERVING };
          await new Promise((r) => setTimeout(r, 10));
        }
      } finally {
        generatorFinished++;
      }
    });
    server.addService(HealthService as unknown as ServiceDefinition, { watch } as UntypedServiceImplementation);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    client = createInventoryClient(`127.0.0.1:${port}`);
  });
  after(async () => {
    client.close();
    server.forceShutdown();
    await t.stop();
  });

  it('delivers a mid-stream domain error with its code, message and details', async () => {
    const got: ServingStatus[] = [];
    let caught: unknown;
    try {
      for await (const m of client.health.watch({ service: 'fail' }, { deadlineMs: 10_000 })) got.push(m.status);
    } catch (err) {
      caught = err;
    }
    expect(got).to.deep.equal([ServingStatus.SERVING]);
    expect(caught).to.be.instanceOf(InventoryError);
    const err = caught as InventoryError;
    expect(err.code).to.equal(Code.FAILED_PRECONDITION);
    expect(err.statusMessage).to.equal('not enough stock of SKU-1: requested 5, available 2');
    expect(err.reason).to.equal('FAILED_PRECONDITION');
    expect(err.insufficientStock).to.deep.equal({ sku: 'SKU-1', requested: 5, available: 2 });
  });

  it("stops the server's generator when the caller leaves the loop", async () => {
    const before = generatorFinished;
    let n = 0;
    for await (const _ of client.health.watch({ service: 'endless' })) if (++n === 3) break;
    const deadline = Date.now() + 10_000;
    while (generatorFinished === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(generatorFinished).to.equal(before + 1);
  });
});
