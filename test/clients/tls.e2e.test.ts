import { readFile } from 'node:fs/promises';
import { expect } from 'chai';
import { Code, createInventoryClient, InventoryError, type InventoryClient } from '../../clients/src/index.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { TestJwks, TestPki, writePolicy, type CertFiles } from '../support/security.js';

async function rejection(promise: Promise<unknown>): Promise<InventoryError> {
  try {
    await promise;
  } catch (err) {
    expect(err).to.be.instanceOf(InventoryError);
    return err as InventoryError;
  }
  throw new Error('expected the call to fail');
}

const NAME = { channelOptions: { 'grpc.ssl_target_name_override': 'localhost' } } as const;

describe('client package: tls, mutual TLS and tokens against the real server (e2e)', () => {
  let pki: TestPki;
  let jwks: TestJwks;
  let mutual: TestApp;
  let oneWay: TestApp;
  let reader: CertFiles;
  const open: InventoryClient[] = [];
  const client = (address: string, options: Parameters<typeof createInventoryClient>[1]) => {
    const c = createInventoryClient(address, { retry: false, deadlineMs: 15_000, ...NAME, ...options });
    open.push(c);
    return c;
  };
  before(async () => {
    pki = await TestPki.create();
    jwks = await TestJwks.create(pki.dir);
    reader = await pki.client('reader', { san: 'URI:spiffe://test/ns/shop/sa/storefront' });
    const policy = await writePolicy(pki.dir, {
      identities: [
        { identity: 'spiffe://test/ns/shop/sa/storefront', roles: ['reader'] },
        { identity: 'token-admin', roles: ['admin'] },
      ],
    });
    mutual = await startTestApp({ ...pki.env(true), AUTH_POLICY_FILE: policy });
    oneWay = await startTestApp({ ...pki.env(false), ...jwks.env(), AUTH_POLICY_FILE: policy });
  });
  after(async () => {
    for (const c of open) c.close();
    await mutual?.stop();
    await oneWay?.stop();
  });

  it('tls with the CA and a client certificate: mutual TLS works, and the identity gets its role', async () => {
    const c = client(mutual.address, { tls: { rootCerts: await pki.ca.pem(), privateKey: await readFile(reader.keyFile), certChain: await readFile(reader.certFile) } });
    expect((await rejection(c.getItem({ sku: 'NOPE' }))).code).to.equal(Code.NOT_FOUND);
    const denied = await rejection(c.createItem({ sku: 'X-1', name: 'x' }));
    expect(denied.code).to.equal(Code.PERMISSION_DENIED);
    expect(denied.message).to.match(/spiffe:\/\/test\/ns\/shop\/sa\/storefront may not call inventory\.v1\.InventoryService\/CreateItem/);
  });

  it('tls without a client certificate cannot connect to a mutual TLS server', async () => {
    const c = client(mutual.address, { tls: { rootCerts: await pki.ca.pem() } });
    expect((await rejection(c.getItem({ sku: 'NOPE' }))).code).to.equal(Code.UNAVAILABLE);
  });

  it('tls: true (the system CAs) does not trust a private CA', async () => {
    const c = client(oneWay.address, { tls: true });
    expect((await rejection(c.getItem({ sku: 'NOPE' }))).code).to.equal(Code.UNAVAILABLE);
  });

  it('token: a string is sent as a bearer token over TLS', async () => {
    const c = client(oneWay.address, { tls: { rootCerts: await pki.ca.pem() }, token: await jwks.sign('token-admin') });
    const { item } = await c.createItem({ sku: 'TOK-1', name: 'Token' });
    expect(item!.sku).to.equal('TOK-1');
  });

  it('token: a function is asked before every call, so a refreshed token is used', async () => {
    const asked: string[] = [];
    const c = client(oneWay.address, {
      tls: { rootCerts: await pki.ca.pem() },
      token: async ({ method }) => {
        asked.push(method);
        return jwks.sign(asked.length === 1 ? 'token-admin' : 'nobody');
      },
    });
    await c.createItem({ sku: 'TOK-2', name: 'Token' });
    expect((await rejection(c.createItem({ sku: 'TOK-3', name: 'Token' }))).code).to.equal(Code.PERMISSION_DENIED);
    expect(asked).to.deep.equal(['/inventory.v1.InventoryService/CreateItem', '/inventory.v1.InventoryService/CreateItem']);
  });

  it('token: a failing token function fails the call with UNAUTHENTICATED, before anything is sent', async () => {
    const c = client(oneWay.address, { tls: { rootCerts: await pki.ca.pem() }, token: () => Promise.reject(new Error('identity provider down')) });
    const err = await rejection(c.getItem({ sku: 'NOPE' }));
    expect(err.code).to.equal(Code.UNAUTHENTICATED);
    expect(err.message).to.match(/identity provider down/);
  });

  it('no token to a JWT server is UNAUTHENTICATED', async () => {
    const c = client(oneWay.address, { tls: { rootCerts: await pki.ca.pem() } });
    expect((await rejection(c.getItem({ sku: 'NOPE' }))).code).to.equal(Code.UNAUTHENTICATED);
  });

  it('refuses to send a token in plaintext to a non-loopback address; loopback is fine', () => {
    expect(() => createInventoryClient('10.0.0.7:50051', { token: 't' })).to.throw(/refusing to send a bearer token in plaintext to 10\.0\.0\.7:50051/);
    expect(() => createInventoryClient('dns:///inventory.internal:50051', { token: 't' })).to.throw(/refusing/);
    for (const address of ['127.0.0.1:50051', 'localhost:50051', '[::1]:50051']) createInventoryClient(address, { token: 't' }).close();
    createInventoryClient('inventory.internal:50051', { token: 't', tls: true }).close();
  });
});
