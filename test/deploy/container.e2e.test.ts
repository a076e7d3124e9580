import { execFile } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import pg from 'pg';
import { startTestApp, type TestApp } from '../support/app.js';

const run = promisify(execFile);
const HEALTHCHECK = path.resolve('docker/healthcheck.mjs');

/** Runs the image's health check script against a port; resolves to its exit code. */
async function healthcheck(port: number): Promise<number> {
  try {
    await run(process.execPath, [HEALTHCHECK], { env: { ...process.env, GRPC_PORT: String(port), HEALTHCHECK_TIMEOUT_MS: '3000' } });
    return 0;
  } catch (err) {
    return (err as { code?: number }).code ?? -1;
  }
}

describe('container pieces (e2e)', () => {
  describe('docker/healthcheck.mjs', () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp();
    });
    after(async () => {
      await t?.stop();
    });

    it('exits 0 while the service is SERVING and 1 once it is not', async () => {
      expect(await healthcheck(t.app.port)).to.equal(0);
      t.app.grpc.setServing(false);
      try {
        expect(await healthcheck(t.app.port)).to.equal(1);
      } finally {
        t.app.grpc.setServing(true);
      }
    });

    it('exits 1 when nothing listens', async () => {
      const server = net.createServer();
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as net.AddressInfo;
      await new Promise((resolve) => server.close(resolve));
      expect(await healthcheck(port)).to.equal(1);
    });
  });

  describe('DATABASE_LISTEN_URL', () => {
    it('carries both LISTEN sessions, and nothing else', async () => {
      const probe = await startTestApp();
      const databaseUrl = probe.databaseUrl;
      await probe.stop();
      const admin = new pg.Client({ connectionString: databaseUrl });
      await admin.connect();
      const role = `listener_${process.pid}_${Date.now()}`;
      let t: TestApp | undefined;
      try {
        await admin.query(`create role "${role}" login password 'listen'`);
        const listenUrl = new URL(databaseUrl);
        listenUrl.username = role;
        listenUrl.password = 'listen';
        t = await startTestApp({ DATABASE_LISTEN_URL: listenUrl.toString() }, { databaseUrl });
        const sessions = await admin.query<{ application_name: string; query: string }>(
          'select application_name, query from pg_stat_activity where usename = $1 and datname = current_database() order by application_name',
          [role],
        );
        expect(sessions.rows.map((r) => r.application_name)).to.have.length(2);
        expect(sessions.rows.map((r) => r.application_name)).to.include('inventory-cache-listener');
        expect(sessions.rows.some((r) => /listen inventory_feed/i.test(r.query))).to.equal(true);
        expect(t.app.cacheListener?.listening).to.equal(true);
      } finally {
        await t?.stop();
        await admin.query(`drop role if exists "${role}"`).catch(() => undefined);
        await admin.end();
      }
    });
  });
});
