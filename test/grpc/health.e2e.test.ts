import { credentials, Metadata } from '@grpc/grpc-js';
import { expect } from 'chai';
import { HealthCheckResponse_ServingStatus as Serving, HealthClient } from '../../src/gen/grpc/health/v1/health.js';
import { startTestApp } from '../support/app.js';

describe('health (e2e)', () => {
  it('is SERVING once ready and turns NOT_SERVING as soon as shutdown begins', async () => {
    const t = await startTestApp();
    const health = new HealthClient(t.address, credentials.createInsecure());
    const check = (service: string) =>
      new Promise<number>((resolve, reject) =>
        health.check({ service }, new Metadata(), (err, res) => (err ? reject(err) : resolve(res.status))),
      );
    try {
      expect(await check('')).to.equal(Serving.SERVING);
      expect(await check('inventory.v1.InventoryService')).to.equal(Serving.SERVING);
      const seen: number[] = [];
      const watch = health.watch({ service: 'inventory.v1.InventoryService' });
      watch.on('error', () => undefined);
      const notServing = new Promise<void>((resolve) =>
        watch.on('data', (m: { status: number }) => {
          seen.push(m.status);
          if (m.status === Serving.NOT_SERVING) resolve();
        }),
      );
      await new Promise((r) => setTimeout(r, 100));
      const stopping = t.app.stop();
      await notServing;
      watch.cancel();
      await stopping;
      expect(seen).to.deep.equal([Serving.SERVING, Serving.NOT_SERVING]);
    } finally {
      health.close();
      await t.stop();
    }
  });
});
