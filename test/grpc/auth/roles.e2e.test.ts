import { Client, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import { BUILT_IN_ROLES, type BuiltInRole } from '../../../src/grpc/auth/policy.js';
import { API_METHODS } from '../../../src/grpc/server.js';
import { startTestApp, type TestApp } from '../../support/app.js';
import { bearer, TestJwks, TestPki, writePolicy } from '../../support/security.js';

/**
 * The role table of the issue, written out by hand. Every method the service descriptors
 * list must appear here: an RPC added without deciding its roles fails this test.
 * `admin` may call everything and is not listed.
 */
const EXPECTED: Record<string, readonly Exclude<BuiltInRole, 'admin'>[]> = {
  'inventory.v1.InventoryService/CreateWarehouse': ['catalog-admin'],
  'inventory.v1.InventoryService/GetWarehouse': ['reader', 'allocator', 'stock-keeper', 'catalog-admin'],
  'inventory.v1.InventoryService/ListWarehouses': ['reader', 'allocator', 'stock-keeper', 'catalog-admin'],
  'inventory.v1.InventoryService/UpdateWarehouse': ['catalog-admin'],
  'inventory.v1.InventoryService/CreateItem': ['catalog-admin'],
  'inventory.v1.InventoryService/GetItem': ['reader', 'allocator', 'stock-keeper', 'catalog-admin'],
  'inventory.v1.InventoryService/ListItems': ['reader', 'allocator', 'stock-keeper', 'catalog-admin'],
  'inventory.v1.InventoryService/ReceiveStock': ['stock-keeper'],
  'inventory.v1.InventoryService/AdjustStock': ['stock-keeper'],
  'inventory.v1.InventoryService/TransferStock': ['stock-keeper'],
  'inventory.v1.InventoryService/GetStockLevel': ['reader', 'allocator', 'stock-keeper', 'catalog-admin'],
  'inventory.v1.InventoryService/BatchGetStockLevels': ['reader', 'allocator', 'stock-keeper', 'catalog-admin'],
  'inventory.v1.InventoryService/GetAvailability': ['reader', 'allocator', 'stock-keeper', 'catalog-admin'],
  'inventory.v1.InventoryService/AllocateStock': ['allocator'],
  'inventory.v1.InventoryService/GetAllocation': ['reader', 'allocator', 'stock-keeper', 'catalog-admin'],
  'inventory.v1.InventoryService/ReleaseAllocation': ['allocator'],
  'inventory.v1.InventoryService/FulfillAllocation': ['allocator'],
  'inventory.v1.InventoryService/ListStockMovements': ['reader', 'allocator', 'stock-keeper', 'catalog-admin'],
  'inventory.v1.InventoryService/ListLowStock': ['reader', 'allocator', 'stock-keeper', 'catalog-admin'],
  'inventory.v1.InventoryService/MoveStock': ['stock-keeper'],
  'inventory.v1.InventoryService/RecordIncomingStock': ['stock-keeper'],
  'inventory.v1.InventoryService/ListIncomingStock': ['reader', 'allocator', 'stock-keeper', 'catalog-admin'],
  'inventory.v1.InventoryService/ReceiveIncomingStock': ['stock-keeper'],
  'inventory.v1.InventoryService/CancelIncomingStock': ['stock-keeper'],
  'inventory.v1.EventService/StreamEvents': ['auditor'],
  'inventory.v1.EventService/SubscribeEvents': ['auditor'],
  'inventory.v1.EventService/GetIntegrityReport': ['auditor'],
};

const STREAMS = new Set(['inventory.v1.EventService/StreamEvents', 'inventory.v1.EventService/SubscribeEvents']);
const empty = () => Buffer.alloc(0);
const raw = (b: Buffer) => b;

/** Calls a method with an empty request; resolves with the status code it ended with. */
function callWith(client: Client, method: string, metadata: Metadata): Promise<{ code: status; details: string }> {
  const path = `/${method}`;
  return new Promise((resolve) => {
    if (STREAMS.has(method)) {
      // An allowed SubscribeEvents from now waits for events: its deadline ends it.
      const call = client.makeServerStreamRequest(path, empty, raw, Buffer.alloc(0), metadata, { deadline: Date.now() + 2000 });
      call.on('data', () => call.cancel());
      call.on('error', (err: ServiceError) => resolve({ code: err.code, details: err.details }));
      call.on('end', () => resolve({ code: status.OK, details: '' }));
    } else {
      client.makeUnaryRequest(path, empty, raw, Buffer.alloc(0), metadata, { deadline: Date.now() + 20_000 }, (err) =>
        resolve(err === null ? { code: status.OK, details: '' } : { code: err.code, details: err.details }),
      );
    }
  });
}

describe('authorization: the built-in roles over every RPC (e2e, TLS + JWT)', () => {
  let pki: TestPki;
  let jwks: TestJwks;
  let t: TestApp;
  let client: Client;
  before(async () => {
    pki = await TestPki.create();
    jwks = await TestJwks.create(pki.dir);
    const policy = await writePolicy(pki.dir, {
      identities: [
        ...BUILT_IN_ROLES.map((r) => ({ identity: `svc-${r}`, roles: [r] })),
        { identity: 'team/*', roles: ['reader'] },
        { identity: 'custom', roles: ['replenisher'] },
      ],
      roles: { replenisher: ['inventory.v1.InventoryService/ReceiveStock', '/inventory.v1.InventoryService/ListLowStock'] },
    });
    t = await startTestApp({ ...pki.env(false), ...jwks.env(), AUTH_POLICY_FILE: policy, REFLECTION: 'authenticated' });
    client = new Client(t.address, await pki.credentials(), { 'grpc.ssl_target_name_override': 'localhost' });
  });
  after(async () => {
    client?.close();
    await t?.stop();
  });

  it('the table covers every method of the service descriptors, and nothing else', () => {
    const missing = API_METHODS.filter((m) => !(m in EXPECTED));
    expect(missing, 'RPCs with no role assignment in the test table').to.deep.equal([]);
    expect(Object.keys(EXPECTED).filter((m) => !API_METHODS.includes(m))).to.deep.equal([]);
  });

  for (const role of BUILT_IN_ROLES) {
    it(`${role}: allowed exactly the methods of the table`, async () => {
      const metadata = bearer(await jwks.sign(`svc-${role}`));
      const outcomes = await Promise.all(API_METHODS.map(async (m) => [m, await callWith(client, m, metadata.clone())] as const));
      for (const [m, { code, details }] of outcomes) {
        const allowed = role === 'admin' || (EXPECTED[m] ?? []).includes(role as Exclude<BuiltInRole, 'admin'>);
        expect(code, `${role} ${m}: ${details}`).to.not.equal(status.UNAUTHENTICATED);
        if (allowed) expect(code, `${role} ${m} should be allowed: ${details}`).to.not.equal(status.PERMISSION_DENIED);
        else {
          expect(code, `${role} ${m} should be denied`).to.equal(status.PERMISSION_DENIED);
          expect(details).to.equal(`svc-${role} may not call ${m} (roles: ${role})`);
        }
      }
    });
  }

  it('a custom role allows exactly its methods; a glob entry matches within one segment', async () => {
    const custom = bearer(await jwks.sign('custom'));
    expect((await callWith(client, 'inventory.v1.InventoryService/ReceiveStock', custom)).code).to.equal(status.INVALID_ARGUMENT);
    expect((await callWith(client, 'inventory.v1.InventoryService/GetItem', custom.clone())).code).to.equal(status.PERMISSION_DENIED);
    expect((await callWith(client, 'inventory.v1.InventoryService/GetItem', bearer(await jwks.sign('team/a')))).code).to.equal(status.INVALID_ARGUMENT);
    const deeper = await callWith(client, 'inventory.v1.InventoryService/GetItem', bearer(await jwks.sign('team/a/b')));
    expect(deeper).to.deep.equal({ code: status.PERMISSION_DENIED, details: 'team/a/b may not call inventory.v1.InventoryService/GetItem (roles: none)' });
  });

  it('health is open; reflection needs an identity (REFLECTION=authenticated); the API needs one too', async () => {
    expect((await callWith(client, 'grpc.health.v1.Health/Check', new Metadata())).code).to.equal(status.OK);
    const anonymous = await callWith(client, 'inventory.v1.InventoryService/GetItem', new Metadata());
    expect(anonymous).to.deep.equal({ code: status.UNAUTHENTICATED, details: 'no credentials: send an "authorization: Bearer <JWT>" header' });
    const reflection = await new Promise<status>((resolve) => {
      const call = client.makeBidiStreamRequest('/grpc.reflection.v1.ServerReflection/ServerReflectionInfo', empty, raw, new Metadata(), { deadline: Date.now() + 5000 });
      call.on('data', () => call.cancel());
      call.on('error', (err: ServiceError) => resolve(err.code));
      call.end();
    });
    expect(reflection).to.equal(status.UNAUTHENTICATED);
  });
});

describe('authentication: bearer JWTs (e2e, TLS)', () => {
  let pki: TestPki;
  let jwks: TestJwks;
  let t: TestApp;
  let client: Client;
  before(async () => {
    pki = await TestPki.create();
    jwks = await TestJwks.create(pki.dir);
    const policy = await writePolicy(pki.dir, { identities: [{ identity: '*', roles: ['reader'] }] });
    t = await startTestApp({ ...pki.env(false), ...jwks.env(), AUTH_POLICY_FILE: policy, AUTH_JWT_CLOCK_SKEW_S: '5' });
    client = new Client(t.address, await pki.credentials(), { 'grpc.ssl_target_name_override': 'localhost' });
  });
  after(async () => {
    client?.close();
    await t?.stop();
  });

  const getItem = (metadata: Metadata) => callWith(client, 'inventory.v1.InventoryService/GetItem', metadata);
  const now = () => Math.floor(Date.now() / 1000);
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

  it('a valid token is accepted', async () => {
    expect((await getItem(bearer(await jwks.sign('alice')))).code).to.equal(status.INVALID_ARGUMENT);
  });

  const cases: Array<[string, () => Promise<string>, RegExp]> = [
    ['expired', () => jwks.sign('alice', {}, { expiresAt: now() - 60, notBefore: now() - 120 }), /has expired/],
    ['not yet valid', () => jwks.sign('alice', {}, { notBefore: now() + 120, expiresAt: now() + 300 }), /not valid yet/],
    ['for another audience', () => jwks.sign('alice', {}, { audience: 'billing' }), /another audience/],
    ['from another issuer', () => jwks.sign('alice', {}, { issuer: 'https://evil.test' }), /another issuer/],
    [
      'badly signed',
      // Another key under the published key's kid: the signature cannot verify.
      async () => (await TestJwks.create(pki.dir, 'forger')).sign('alice', {}, { kid: 'k1' }),
      /signature does not verify/,
    ],
    ['alg none', async () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'alice', iss: 'https://issuer.test', aud: 'inventory', exp: now() + 300 })}.`, /not valid/],
    [
      'HS256 with the public key as secret',
      async () => {
        const { SignJWT } = await import('jose');
        const jwk = JSON.parse(await (await import('node:fs/promises')).readFile(jwks.file, 'utf8')) as { keys: Array<{ x: string }> };
        return new SignJWT({}).setProtectedHeader({ alg: 'HS256', kid: 'k1' }).setSubject('alice').setIssuer('https://issuer.test').setAudience('inventory').setExpirationTime(now() + 300).sign(new TextEncoder().encode(jwk.keys[0]!.x));
      },
      /algorithm is not allowed/,
    ],
    ['malformed', async () => 'not-a-jwt', /malformed/],
  ];
  for (const [name, token, message] of cases) {
    it(`a token ${name} is UNAUTHENTICATED`, async () => {
      const r = await getItem(bearer(await token()));
      expect(r.code, r.details).to.equal(status.UNAUTHENTICATED);
      expect(r.details).to.match(message);
    });
  }

  it('a header that is not "Bearer <JWT>" is UNAUTHENTICATED', async () => {
    const m = new Metadata();
    m.set('authorization', 'Basic YWxpY2U6c2VjcmV0');
    expect(await getItem(m)).to.deep.equal({ code: status.UNAUTHENTICATED, details: 'the authorization header must be "Bearer <JWT>"' });
  });
});
