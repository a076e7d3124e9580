import { copyFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import tls from 'node:tls';
import { readFile } from 'node:fs/promises';
import { credentials, status, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import { startApp } from '../../../src/app.js';
import { loadConfig } from '../../../src/config.js';
import { InventoryServiceClient } from '../../../src/gen/inventory/v1/inventory_service.js';
import { failure, promiseClient, startTestApp, type TestApp } from '../../support/app.js';
import { eventClient, Subscription, waitFor } from '../../support/events.js';
import { closeAll, TestPki, writePolicy, type CertFiles } from '../../support/security.js';
import { quietLog } from '../../support/stack.js';

const DAY = 86_400_000;

/** The serial number of the certificate the server presents on a new connection. */
function servedSerial(port: number, pki: TestPki, client: CertFiles): Promise<string> {
  return Promise.all([pki.ca.pem(), readFile(client.certFile), readFile(client.keyFile)]).then(
    ([ca, cert, key]) =>
      new Promise((resolve, reject) => {
        const socket = tls.connect({ host: '127.0.0.1', port, ca, cert, key, servername: 'localhost', ALPNProtocols: ['h2'] }, () => {
          const serial = socket.getPeerX509Certificate()?.serialNumber ?? '';
          socket.destroy();
          resolve(serial);
        });
        socket.on('error', reject);
      }),
  );
}

describe('TLS and mutual TLS (e2e, real TLS connections)', () => {
  let pki: TestPki;
  let t: TestApp;
  let good: CertFiles;
  before(async () => {
    pki = await TestPki.create();
    good = await pki.client('checkout', { san: 'URI:spiffe://test/ns/orders/sa/checkout' });
    const policy = await writePolicy(pki.dir, { identities: [{ identity: 'spiffe://test/ns/orders/**', roles: ['admin'] }] });
    t = await startTestApp({ ...pki.env(true), AUTH_POLICY_FILE: policy, TLS_RELOAD_INTERVAL_MS: '100' });
  });
  after(async () => t?.stop());

  const call = async (creds: Promise<import('@grpc/grpc-js').ChannelCredentials>) => {
    const raw = new InventoryServiceClient(t.address, await creds, { 'grpc.ssl_target_name_override': 'localhost' });
    try {
      return await promiseClient<import('../../../src/gen/inventory/v1/inventory_service.js').InventoryServiceServer>(raw).getItem({ sku: 'NOPE' }, undefined);
    } finally {
      raw.close();
    }
  };

  it('a client certificate from the CA completes the handshake and the call reaches the service', async () => {
    const err = await failure(call(pki.credentials(good)));
    expect(err.code).to.equal(status.NOT_FOUND); // past TLS, authentication and authorization
  });

  it('plaintext to the TLS port fails', async () => {
    const err = await failure(call(Promise.resolve(credentials.createInsecure())));
    expect(err.code).to.equal(status.UNAVAILABLE);
  });

  it('refuses a connection without a client certificate', async () => {
    const err = await failure(call(pki.credentials()));
    expect(err.code).to.equal(status.UNAVAILABLE);
  });

  it('refuses a client certificate from another CA', async () => {
    const other = await TestPki.create();
    const foreign = await other.client('intruder', { san: 'URI:spiffe://test/ns/orders/sa/checkout' });
    const creds = credentials.createSsl(await pki.ca.pem(), await readFile(foreign.keyFile), await readFile(foreign.certFile));
    const err = await failure(call(Promise.resolve(creds)));
    expect(err.code).to.equal(status.UNAVAILABLE);
  });

  it('refuses an expired and a not-yet-valid client certificate', async () => {
    const expired = await pki.client('expired', { san: 'URI:spiffe://test/ns/orders/sa/old', notBefore: new Date(Date.now() - 3 * DAY), notAfter: new Date(Date.now() - DAY) });
    const future = await pki.client('future', { san: 'URI:spiffe://test/ns/orders/sa/new', notBefore: new Date(Date.now() + DAY), notAfter: new Date(Date.now() + 3 * DAY) });
    for (const c of [expired, future]) {
      const err = await failure(call(pki.credentials(c)));
      expect(err.code, c.certFile).to.equal(status.UNAVAILABLE);
    }
  });

  it('refuses TLS 1.1', async () => {
    const [ca, cert, key] = await Promise.all([pki.ca.pem(), readFile(good.certFile), readFile(good.keyFile)]);
    const outcome = await new Promise<string>((resolve) => {
      const socket = tls.connect({ host: '127.0.0.1', port: t.app.port, ca, cert, key, servername: 'localhost', maxVersion: 'TLSv1.1', minVersion: 'TLSv1',
        // Without lowering the client's own security level, OpenSSL would refuse TLS 1.1 itself.
        ciphers: 'DEFAULT@SECLEVEL=0' }, () => {
        socket.destroy();
        resolve('connected');
      });
      socket.on('error', (err) => resolve(err.message));
    });
    expect(outcome).to.match(/protocol version|unsupported protocol/i);
  });

  it('serves rewritten certificate files to new connections without cutting an open stream', async () => {
    const before = await servedSerial(t.app.port, pki, good);
    const ca = await pki.ca.pem();
    const events = new (await import('../../../src/gen/inventory/v1/event_service.js')).EventServiceClient(
      t.address,
      credentials.createSsl(ca, await readFile(good.keyFile), await readFile(good.certFile)),
      { 'grpc.ssl_target_name_override': 'localhost' },
    );
    const sub = new Subscription(events, { start: { $case: 'fromNow', value: true } });
    const writer = await pki.inventory(t.address, good);
    try {
      await writer.client.createWarehouse({ code: 'ROT-1', name: 'Before', region: 'eu', priority: 1 });
      await waitFor(() => sub.events.length >= 1, 15_000, 'the first event on the stream');

      // Rotate as cert-manager does: new files written next to the old, then moved in place.
      const next = await pki.ca.issue({ name: 'server-next', cn: 'localhost', sans: ['DNS:localhost', 'IP:127.0.0.1'], outDir: path.join(pki.dir, 'next') });
      await copyFile(next.keyFile, `${pki.server.keyFile}.tmp`);
      await copyFile(next.certFile, `${pki.server.certFile}.tmp`);
      const { rename } = await import('node:fs/promises');
      await rename(`${pki.server.keyFile}.tmp`, pki.server.keyFile);
      await rename(`${pki.server.certFile}.tmp`, pki.server.certFile);
      const expected = new (await import('node:crypto')).X509Certificate(await readFile(next.certFile)).serialNumber;
      let served = before;
      await waitFor(async () => (served = await servedSerial(t.app.port, pki, good)) === expected, 15_000, 'the new certificate');
      expect(served).to.not.equal(before);

      // The stream opened before the rotation still delivers.
      await writer.client.createWarehouse({ code: 'ROT-2', name: 'After', region: 'eu', priority: 1 });
      await waitFor(() => sub.events.length >= 2, 15_000, 'an event after the rotation');
      expect(sub.error).to.equal(undefined);
    } finally {
      sub.call.cancel();
      closeAll(events, writer.raw);
    }
  });

  it('a half-written rotation (key without its certificate) keeps the previous certificates serving', async () => {
    const before = await servedSerial(t.app.port, pki, good);
    const { keyFile } = await pki.ca.issue({ name: 'stray', cn: 'localhost', sans: ['DNS:localhost'], outDir: path.join(pki.dir, 'stray') });
    const original = await readFile(pki.server.keyFile);
    await writeFile(pki.server.keyFile, await readFile(keyFile));
    try {
      await new Promise((r) => setTimeout(r, 500)); // several reload intervals
      expect(await servedSerial(t.app.port, pki, good)).to.equal(before);
    } finally {
      await writeFile(pki.server.keyFile, original);
    }
  });
});

describe('TLS start-up checks (e2e)', () => {
  let pki: TestPki;
  before(async () => {
    pki = await TestPki.create();
  });

  const start = (env: Record<string, string>) =>
    startApp(loadConfig({ GRPC_PORT: '0', DATABASE_URL: 'postgres://unused.invalid/db', DYNAMODB_ENDPOINT: 'http://127.0.0.1:1', ...env }), quietLog).then(
      () => {
        throw new Error('expected start-up to fail');
      },
      (err: Error) => err.message,
    );

  it('an unreadable file stops start-up naming the variable', async () => {
    expect(await start({ ...pki.env(false), TLS_KEY_FILE: path.join(pki.dir, 'missing.key') })).to.match(/^TLS_KEY_FILE=.*missing\.key: cannot read the file \(ENOENT\)/);
    expect(await start({ ...pki.env(true), TLS_CLIENT_CA_FILE: path.join(pki.dir, 'nope.crt'), AUTH_POLICY_FILE: path.join(pki.dir, 'p.json') })).to.match(/^TLS_CLIENT_CA_FILE=/);
  });

  it('a key that does not match its certificate stops start-up naming both variables', async () => {
    const other = await pki.client('other');
    expect(await start({ ...pki.env(false), TLS_KEY_FILE: other.keyFile })).to.match(/^TLS_KEY_FILE=.* does not match the certificate in TLS_CERT_FILE=/);
  });

  it('an expired server certificate stops start-up naming the variable', async () => {
    const old = await pki.client('old-server', { san: 'DNS:localhost', notBefore: new Date(Date.now() - 3 * DAY), notAfter: new Date(Date.now() - DAY) });
    expect(await start({ TLS_CERT_FILE: old.certFile, TLS_KEY_FILE: old.keyFile })).to.match(/^TLS_CERT_FILE=.*: the certificate expired at /);
  });

  it('a policy that names an unknown role or method stops start-up naming the entry', async () => {
    const badRole = await writePolicy(pki.dir, { identities: [{ identity: 'a', roles: ['reader'] }, { identity: 'b', roles: ['alocator'] }] }, 'bad-role.json');
    expect(await start({ ...pki.env(true), AUTH_POLICY_FILE: badRole })).to.match(/identities\[1\]\.roles\[0\]: unknown role "alocator"/);
    const badMethod = await writePolicy(pki.dir, { roles: { picker: ['inventory.v1.InventoryService/PickStock'] }, identities: [{ identity: 'a', roles: ['picker'] }] }, 'bad-method.json');
    expect(await start({ ...pki.env(true), AUTH_POLICY_FILE: badMethod })).to.match(/roles\.picker\[0\]: "inventory.v1.InventoryService\/PickStock" is not a method/);
  });
});
